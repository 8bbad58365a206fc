import { useSession } from "../session.ts";
import { type DayBar, loadClaimStats, loadDeliveryStats, type WebhookSeries } from "../stats.ts";
import { Alert, Loading, useAsync } from "../ui.tsx";
import { useTitle } from "../views.tsx";

const OUTCOMES = [
  ["approved", "Approved"],
  ["rejected", "Rejected"],
  ["pending", "Pending"],
  ["other", "Revoked or expired"],
] as const;

export function OverviewPage() {
  const { user } = useSession();
  const claims = useAsync(() => loadClaimStats(user.namespace), [user.namespace]);
  const deliveries = useAsync(() => loadDeliveryStats(user.namespace), [user.namespace]);
  useTitle("Overview");
  return (
    <>
      <h1>Overview</h1>
      <div class="charts">
        <figure class="card chart" aria-label="Authorization requests per day">
          <h2>Authorization requests per day</h2>
          <p class="muted">The last 30 days, by outcome.</p>
          <Alert error={claims.error} />
          {claims.loading && claims.data === undefined ? (
            <Loading />
          ) : (
            <>
              <DaysChart days={claims.data ?? []} />
              {claims.data?.length === 0 && <p class="muted">No requests in the last 30 days.</p>}
            </>
          )}
          <ul class="legend">
            {OUTCOMES.map(([key, label]) => (
              <li key={key}>
                <span class={`swatch s-${key}`} />
                {label}
              </li>
            ))}
          </ul>
        </figure>
        <figure class="card chart" aria-label="Webhook deliveries per hour">
          <h2>Webhook deliveries per hour</h2>
          <p class="muted">The last 24 hours, per webhook: succeeded below, failed above.</p>
          <Alert error={deliveries.error} />
          {deliveries.loading && deliveries.data === undefined ? (
            <Loading />
          ) : deliveries.data && deliveries.data.length > 0 ? (
            deliveries.data.map((series) => <HoursChart key={series.id} series={series} />)
          ) : (
            <>
              <HoursChart series={{ id: "none", label: "All webhooks", hours: [] }} />
              {deliveries.data && <p class="muted">No webhook deliveries in the last 24 hours.</p>}
            </>
          )}
          <ul class="legend">
            <li>
              <span class="swatch s-approved" />
              Succeeded
            </li>
            <li>
              <span class="swatch s-rejected" />
              Failed or retrying
            </li>
          </ul>
        </figure>
      </div>
    </>
  );
}

const W = 600;
const H = 200;
const PAD = 24;

/** Stacked bars, one per day; heights scaled to the busiest day. */
function DaysChart({ days }: { days: DayBar[] }) {
  const total = (d: DayBar) => d.approved + d.rejected + d.pending + d.other;
  const max = Math.max(1, ...days.map(total));
  const step = (W - PAD) / Math.max(1, days.length);
  const scale = (H - PAD) / max;
  const sum = days.reduce((n, d) => n + total(d), 0);
  return (
    <svg
      viewBox={`0 0 ${W} ${H}`}
      role="img"
      aria-label={`${sum} requests over ${days.length} days; busiest day ${max}`}
    >
      <line class="axis" x1={PAD} y1={H - PAD} x2={W} y2={H - PAD} />
      <text class="chart-text" x={0} y={10}>
        {max}
      </text>
      <text class="chart-text" x={0} y={H - PAD}>
        0
      </text>
      {days.map((d, i) => {
        let y = H - PAD;
        const x = PAD + i * step + 1;
        return (
          <g key={d.date}>
            <title>
              {d.date}: {d.approved} approved, {d.rejected} rejected, {d.pending} pending, {d.other}{" "}
              revoked or expired
            </title>
            {OUTCOMES.map(([key]) => {
              const h = d[key] * scale;
              y -= h;
              return h > 0 ? (
                <rect
                  key={key}
                  class={`s-${key}`}
                  x={x}
                  y={y}
                  width={Math.max(1, step - 2)}
                  height={h}
                />
              ) : null;
            })}
            {i % 7 === 0 && (
              <text class="chart-text" x={x} y={H - 8}>
                {d.date.slice(5)}
              </text>
            )}
          </g>
        );
      })}
    </svg>
  );
}

const HH = 90;

function HoursChart({ series }: { series: WebhookSeries }) {
  const max = Math.max(1, ...series.hours.map((h) => h.succeeded + h.failed));
  const step = (W - PAD) / Math.max(1, series.hours.length);
  const scale = (HH - 20) / max;
  const ok = series.hours.reduce((n, h) => n + h.succeeded, 0);
  const bad = series.hours.reduce((n, h) => n + h.failed, 0);
  return (
    <div class="hours">
      <h3 class="break">{series.label}</h3>
      <svg
        viewBox={`0 0 ${W} ${HH}`}
        role="img"
        aria-label={`${series.label}: ${ok} succeeded, ${bad} failed`}
      >
        <line class="axis" x1={PAD} y1={HH - 20} x2={W} y2={HH - 20} />
        {series.hours.map((h, i) => {
          const x = PAD + i * step + 1;
          const okH = h.succeeded * scale;
          const badH = h.failed * scale;
          return (
            <g key={h.hour || i}>
              <title>
                {h.hour
                  ? new Date(h.hour).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })
                  : ""}
                : {h.succeeded} succeeded, {h.failed} failed
              </title>
              {okH > 0 && (
                <rect
                  class="s-approved"
                  x={x}
                  y={HH - 20 - okH}
                  width={Math.max(1, step - 2)}
                  height={okH}
                />
              )}
              {badH > 0 && (
                <rect
                  class="s-rejected"
                  x={x}
                  y={HH - 20 - okH - badH}
                  width={Math.max(1, step - 2)}
                  height={badH}
                />
              )}
              {i % 6 === 0 && h.hour && (
                <text class="chart-text" x={x} y={HH - 6}>
                  {new Date(h.hour).getHours()}h
                </text>
              )}
            </g>
          );
        })}
      </svg>
    </div>
  );
}
