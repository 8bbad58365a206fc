import { useState } from "preact/hooks";
import { api } from "../api.ts";
import { apiPath } from "../ids.ts";
import type { Delivery, DeliveryDetail, Page } from "../types.ts";
import {
  Alert,
  Button,
  Empty,
  Field,
  FormError,
  formValues,
  Loading,
  Pagination,
  ScrollText,
  Table,
  Time,
  toast,
  useAsync,
  useFormErrors,
} from "../ui.tsx";
import { isoFromLocal } from "./keys.tsx";

// A webhook's deliveries log: filter by status, attempts and payload on demand, redeliver one,
// recover every failed one since a time.

const STATUSES = ["", "pending", "succeeded", "failed", "cancelled"];

export function Deliveries({ base }: { base: string }) {
  const [status, setStatus] = useState("");
  const [offset, setOffset] = useState(0);
  const list = useAsync(
    () =>
      api.get<Page<"deliveries", Delivery>>(`${base}/deliveries`, { status, limit: 25, offset }),
    [base, status, offset],
  );
  return (
    <section aria-labelledby="deliveries-heading">
      <h2 id="deliveries-heading">Deliveries</h2>
      <div class="toolbar">
        <Field
          label="Status"
          name="status"
          value={status}
          onInput={(v) => {
            setStatus(v);
            setOffset(0);
          }}
          options={STATUSES.map((s) => ({ value: s, label: s || "All" }))}
        />
        <Button onClick={() => void list.reload()}>Refresh</Button>
      </div>
      <Alert error={list.error} />
      {!list.data ? (
        <Loading />
      ) : list.data.deliveries.length === 0 ? (
        <Empty>No deliveries{status ? ` with status ${status}` : ""}.</Empty>
      ) : (
        <ul class="cards" aria-label="Deliveries">
          {list.data.deliveries.map((d) => (
            <DeliveryItem
              key={d.id}
              base={base}
              delivery={d}
              onRedelivered={() => void list.reload()}
            />
          ))}
        </ul>
      )}
      <Pagination page={list.data?.pagination} onOffset={setOffset} />
      <RecoverForm base={base} onDone={() => void list.reload()} />
    </section>
  );
}

/** The sent body, indented when it is JSON (shown as text either way). */
function prettyPayload(payload: unknown): string {
  if (typeof payload !== "string") return JSON.stringify(payload, null, 2);
  try {
    return JSON.stringify(JSON.parse(payload), null, 2);
  } catch {
    return payload;
  }
}

function DeliveryItem(props: { base: string; delivery: Delivery; onRedelivered: () => void }) {
  const d = props.delivery;
  const path = apiPath(`${props.base}/deliveries/{delivery}`, { delivery: d.id });
  const [detail, setDetail] = useState<DeliveryDetail | null>(null);
  const [error, setError] = useState<unknown>(null);
  const open = async (event: Event) => {
    if (!(event.currentTarget as HTMLDetailsElement).open || detail) return;
    try {
      setDetail(await api.get<DeliveryDetail>(path));
    } catch (err) {
      setError(err);
    }
  };
  const redeliver = async () => {
    try {
      await api.post(`${path}/redeliver`);
      toast(`Delivery of ${d.event} queued again`);
      props.onRedelivered();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <li class="card">
      <div class="claim-head">
        <strong>{d.event}</strong>
        <span class={`badge badge-${d.status}`}>{d.status}</span>
        <span class="muted">
          {d.attempt_count} attempt{d.attempt_count === 1 ? "" : "s"}
          {d.last_status_code ? `, last HTTP ${d.last_status_code}` : ""}
        </span>
        <Time at={d.created_at} />
        <Button class="btn-small" onClick={redeliver} aria-label={`Redeliver ${d.event} ${d.id}`}>
          Redeliver
        </Button>
      </div>
      {d.last_error && <p class="muted break">{d.last_error}</p>}
      <Alert error={error} />
      <details onToggle={open}>
        <summary>Show attempts</summary>
        {!detail ? (
          <Loading />
        ) : (
          <>
            {detail.attempts.length === 0 ? (
              <Empty>No attempts yet.</Empty>
            ) : (
              <Table label="Attempts">
                <thead>
                  <tr>
                    <th scope="col">#</th>
                    <th scope="col">Time</th>
                    <th scope="col">Status code</th>
                    <th scope="col">Duration</th>
                    <th scope="col">Error</th>
                    <th scope="col">Response</th>
                  </tr>
                </thead>
                <tbody>
                  {detail.attempts.map((a) => (
                    <tr key={a.attempt}>
                      <td>{a.attempt}</td>
                      <td>
                        <Time at={a.started_at} />
                      </td>
                      <td>{a.status_code ?? "—"}</td>
                      <td>{a.duration_ms} ms</td>
                      <td class="break">{a.error ?? "—"}</td>
                      <td>
                        {a.response_excerpt ? (
                          <ScrollText label="Response excerpt">{a.response_excerpt}</ScrollText>
                        ) : (
                          "—"
                        )}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </Table>
            )}
            <h3>Payload</h3>
            {detail.payload !== undefined ? (
              <ScrollText label="Payload sent">{prettyPayload(detail.payload)}</ScrollText>
            ) : (
              <p class="muted">
                Event <code>{d.event_id}</code> ({d.event}).
              </p>
            )}
          </>
        )}
      </details>
    </li>
  );
}

function RecoverForm(props: { base: string; onDone: () => void }) {
  const errors = useFormErrors();
  const submit = async (event: Event) => {
    const v = formValues(event);
    errors.clear();
    try {
      const r = await api.post<{ requeued: number }>(`${props.base}/recover`, {
        since: isoFromLocal(v.since) ?? "",
      });
      toast(`${r.requeued} failed deliver${r.requeued === 1 ? "y" : "ies"} queued again`);
      props.onDone();
    } catch (error) {
      errors.show(error, ["since"]);
    }
  };
  return (
    <form class="card" onSubmit={submit} noValidate aria-label="Recover failed deliveries">
      <h3>Recover failed deliveries</h3>
      <p class="muted">Queues every failed delivery since a time (at most 14 days back) again.</p>
      <FormError message={errors.general} />
      <Field
        label="Since"
        name="since"
        type="datetime-local"
        required
        error={errors.fields.since}
      />
      <Button type="submit">Recover failed deliveries</Button>
    </form>
  );
}
