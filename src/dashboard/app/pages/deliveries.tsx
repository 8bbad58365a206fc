import { useState } from "preact/hooks";
import { api } from "../api.ts";
import { useSubmit } from "../forms.tsx";
import { apiPath } from "../ids.ts";
import type { Delivery, DeliveryDetail, Page } from "../types.ts";
import {
  Alert,
  Button,
  Empty,
  Field,
  FormError,
  Loading,
  ScrollText,
  Time,
  toast,
} from "../ui.tsx";
import { ListView, Table, usePaged } from "../views.tsx";
import { isoFromLocal } from "./keys.tsx";

// A webhook's deliveries log: filter by status, attempts and payload on demand, redeliver one,
// recover every failed one since a time.

const STATUSES = ["", "pending", "succeeded", "failed", "cancelled"];

export function Deliveries({ base }: { base: string }) {
  const [status, setStatus] = useState("");
  const list = usePaged(
    (offset) =>
      api.get<Page<"deliveries", Delivery>>(`${base}/deliveries`, { status, limit: 25, offset }),
    [base, status],
  );
  return (
    <section aria-labelledby="deliveries-heading">
      <h2 id="deliveries-heading">Deliveries</h2>
      <div class="toolbar">
        <Field
          label="Status"
          name="status"
          value={status}
          onInput={list.filter(setStatus)}
          options={STATUSES.map((s) => ({ value: s, label: s || "All" }))}
        />
        <Button onClick={() => void list.reload()}>Refresh</Button>
      </div>
      <ListView
        list={list}
        items={(d) => d.deliveries}
        empty={`No deliveries${status ? ` with status ${status}` : ""}.`}
      >
        {(items) => (
          <ul class="cards" aria-label="Deliveries">
            {items.map((d) => (
              <DeliveryItem
                key={d.id}
                base={base}
                delivery={d}
                onRedelivered={() => void list.reload()}
              />
            ))}
          </ul>
        )}
      </ListView>
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
              <Table
                label="Attempts"
                columns={["#", "Time", "Status code", "Duration", "Error", "Response"]}
              >
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
  const { errors, submit } = useSubmit(["since"], async (v) => {
    const r = await api.post<{ requeued: number }>(`${props.base}/recover`, {
      since: isoFromLocal(v.since) ?? "",
    });
    toast(`${r.requeued} failed deliver${r.requeued === 1 ? "y" : "ies"} queued again`);
    props.onDone();
  });
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
