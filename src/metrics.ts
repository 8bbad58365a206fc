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

/** One labelled series of a counter; callers on hot paths keep it and add to it directly. */
interface CounterCell {
  value: number;
}

class Counter {
  private values = new Map<string, CounterCell>();
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}
  inc(labels: Labels = {}, by = 1): void {
    this.cell(labels).value += by;
  }
  /** The series for `labels`, created at zero. */
  cell(labels: Labels): CounterCell {
    const key = labelKey(labels);
    let cell = this.values.get(key);
    if (!cell) {
      cell = { value: 0 };
      this.values.set(key, cell);
    }
    return cell;
  }
  render(): string[] {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    for (const [key, c] of this.values)
      lines.push(`${this.name}${key ? `{${key}}` : ""} ${c.value}`);
    return lines;
  }
}

const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** One labelled series of a histogram: counts per bucket (cumulative, as exported). */
class Series {
  readonly counts: number[];
  sum = 0;
  count = 0;
  constructor(private buckets: number[]) {
    this.counts = buckets.map(() => 0);
  }
  observe(value: number): void {
    const { buckets, counts } = this;
    for (let i = buckets.length - 1; i >= 0 && value <= buckets[i]!; i--) counts[i]!++;
    this.sum += value;
    this.count++;
  }
}

class Histogram {
  private series = new Map<string, Series>();
  constructor(
    readonly name: string,
    readonly help: string,
    private buckets = DURATION_BUCKETS,
  ) {}
  observe(labels: Labels, value: number): void {
    this.seriesFor(labels).observe(value);
  }
  /** The series for `labels`, created empty. */
  seriesFor(labels: Labels): Series {
    const key = labelKey(labels);
    let s = this.series.get(key);
    if (!s) {
      s = new Series(this.buckets);
      this.series.set(key, s);
    }
    return s;
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

  /** Per route, method and status: the two series a request updates, found with one lookup. */
  private requestSeries = new Map<string, { requests: CounterCell; duration: Series }>();

  constructor() {
    this.logLinesDropped.inc({}, 0);
  }

  /** One served request (route pattern, not path): counted and timed. Runs for every request. */
  recordRequest(route: string, method: string, status: number, seconds: number): void {
    const key = `${status} ${method} ${route}`;
    let series = this.requestSeries.get(key);
    if (!series) {
      series = {
        requests: this.httpRequests.cell({ route, method, status }),
        duration: this.httpDuration.seriesFor({ route, method }),
      };
      this.requestSeries.set(key, series);
    }
    series.requests.value++;
    series.duration.observe(seconds);
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
