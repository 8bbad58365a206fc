import { BoundedCache } from "./cache.ts";
import { systemClock } from "./clock.ts";

/** A small Prometheus registry: counters and histograms with labels, rendered as text format 0.0.4. */
type Labels = Record<string, string | number>;

// Hot paths record the same few label sets over and over: render each one once (a pure memo).
const renderedKeys = new BoundedCache<string>(systemClock, Number.POSITIVE_INFINITY, 10_000);

function labelKey(labels: Labels): string {
  // Built by hand: Object.entries(…).join() allocated an array per pair on every request.
  let raw = "";
  for (const name in labels) raw += `${name}\u0000${labels[name]}\u0001`;
  let key = renderedKeys.get(raw);
  if (key === undefined) {
    key = renderLabels(labels);
    renderedKeys.set(raw, key);
  }
  return key;
}

function renderLabels(labels: Labels): string {
  return Object.entries(labels)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(
      ([k, v]) =>
        `${k}="${String(v).replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`,
    )
    .join(",");
}

class Counter {
  private values = new Map<string, number>();
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}
  inc(labels: Labels = {}, by = 1): void {
    const key = labelKey(labels);
    this.values.set(key, (this.values.get(key) ?? 0) + by);
  }
  render(): string[] {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    for (const [key, v] of this.values) lines.push(`${this.name}${key ? `{${key}}` : ""} ${v}`);
    return lines;
  }
}

const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

class Histogram {
  private series = new Map<string, { counts: number[]; sum: number; count: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
    private buckets = DURATION_BUCKETS,
  ) {}
  observe(labels: Labels, value: number): void {
    const key = labelKey(labels);
    let s = this.series.get(key);
    if (!s) {
      s = { counts: this.buckets.map(() => 0), sum: 0, count: 0 };
      this.series.set(key, s);
    }
    for (const [i, b] of this.buckets.entries()) if (value <= b) s.counts[i]!++;
    s.sum += value;
    s.count++;
  }
  render(): string[] {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const [key, s] of this.series) {
      const sep = key ? "," : "";
      for (const [i, b] of this.buckets.entries()) {
        lines.push(`${this.name}_bucket{${key}${sep}le="${b}"} ${s.counts[i]}`);
      }
      lines.push(`${this.name}_bucket{${key}${sep}le="+Inf"} ${s.count}`);
      lines.push(`${this.name}_sum${key ? `{${key}}` : ""} ${s.sum}`);
      lines.push(`${this.name}_count${key ? `{${key}}` : ""} ${s.count}`);
    }
    return lines;
  }
}

/** A value read at scrape time; a counter is cumulative since start (its name ends in `_total`). */
export interface ScrapedMetric {
  name: string;
  help: string;
  value: number;
  labels?: Labels;
  type?: "gauge" | "counter";
}

/** Every metric the appliance exports (operations.md §8); gauges are read at scrape time. */
export class Metrics {
  readonly httpRequests = new Counter(
    "sigilum_http_requests_total",
    "HTTP requests by route pattern, method and status",
  );
  readonly httpDuration = new Histogram(
    "sigilum_http_request_duration_seconds",
    "HTTP request latency by route pattern and method",
  );
  readonly deliveries = new Counter(
    "sigilum_webhook_attempts_total",
    "Webhook delivery attempts by outcome",
  );
  readonly claimTransitions = new Counter(
    "sigilum_claim_transitions_total",
    "Claim status changes by target status",
  );
  readonly signatureFailures = new Counter(
    "sigilum_signature_failures_total",
    "Rejected agent signatures by error code",
  );
  readonly logLinesDropped = new Counter(
    "sigilum_log_lines_dropped_total",
    "Log lines dropped because the log stream was broken or full",
  );

  constructor() {
    this.logLinesDropped.inc({}, 0);
  }

  /** Renders the recorded metrics plus values read at scrape time (gauges, or counters kept elsewhere). */
  render(scraped: ScrapedMetric[]): string {
    const lines = [
      ...this.httpRequests.render(),
      ...this.httpDuration.render(),
      ...this.deliveries.render(),
      ...this.claimTransitions.render(),
      ...this.signatureFailures.render(),
      ...this.logLinesDropped.render(),
    ];
    const byName = new Map<string, ScrapedMetric[]>();
    for (const m of scraped) byName.set(m.name, [...(byName.get(m.name) ?? []), m]);
    for (const [name, series] of byName) {
      lines.push(
        `# HELP ${name} ${series[0]!.help}`,
        `# TYPE ${name} ${series[0]!.type ?? "gauge"}`,
      );
      for (const m of series)
        lines.push(`${name}${m.labels ? `{${labelKey(m.labels)}}` : ""} ${m.value}`);
    }
    return `${lines.join("\n")}\n`;
  }
}
