import { useEffect, useState } from "preact/hooks";
import { api } from "../api.ts";
import { shortKey } from "../claims.tsx";
import { apiPath } from "../ids.ts";
import { useSession } from "../session.ts";
import type { Page, UsageEvent, UsageReport } from "../types.ts";
import { Alert, Empty, Field, Loading, Pagination, Table, Time, useAsync } from "../ui.tsx";

const SORTS = [
  { value: "recent", label: "Most recent" },
  { value: "calls_desc", label: "Most calls" },
  { value: "subject_asc", label: "Subject A–Z" },
];

export function UsagePage() {
  const { user } = useSession();
  const base = apiPath("/v1/namespaces/{namespace}/usage", { namespace: user.namespace });
  const [sort, setSort] = useState("recent");
  const [offset, setOffset] = useState(0);
  const [eventsOffset, setEventsOffset] = useState(0);
  const report = useAsync(
    () => api.get<UsageReport>(base, { sort, limit: 50, offset }),
    [base, sort, offset],
  );
  const events = useAsync(
    () =>
      api.get<Page<"events", UsageEvent>>(`${base}/events`, {
        limit: 25,
        offset: eventsOffset,
      }),
    [base, eventsOffset],
  );
  useEffect(() => {
    document.title = "Usage — Sigilum";
  }, []);
  const s = report.data?.summary;
  return (
    <>
      <h1>Usage</h1>
      <p class="lede">
        What your agents did through services' gateways, as the services reported it.
      </p>
      {s && (
        <dl class="facts">
          <div>
            <dt>Calls</dt>
            <dd>{s.total_events}</dd>
          </div>
          <div>
            <dt>Succeeded</dt>
            <dd>{s.successful_events}</dd>
          </div>
          <div>
            <dt>Failed</dt>
            <dd>{s.failed_events}</dd>
          </div>
          <div>
            <dt>Subjects / services / agents</dt>
            <dd>
              {s.unique_subjects} / {s.unique_providers} / {s.unique_agents}
            </dd>
          </div>
        </dl>
      )}
      <div class="toolbar">
        <Field
          label="Sort"
          name="sort"
          value={sort}
          onInput={(v) => {
            setSort(v);
            setOffset(0);
          }}
          options={SORTS}
        />
      </div>
      <Alert error={report.error} />
      {!report.data ? (
        <Loading />
      ) : report.data.rows.length === 0 ? (
        <Empty>No usage reported yet.</Empty>
      ) : (
        <Table label="Usage by subject, service and agent">
          <thead>
            <tr>
              <th scope="col">Subject</th>
              <th scope="col">Service</th>
              <th scope="col">Agent</th>
              <th scope="col">Calls</th>
              <th scope="col">Succeeded</th>
              <th scope="col">Failed</th>
              <th scope="col">Last used</th>
            </tr>
          </thead>
          <tbody>
            {report.data.rows.map((r) => (
              <tr key={`${r.subject}|${r.provider}|${r.public_key}|${r.agent_id}`}>
                <td>{r.subject}</td>
                <td>{r.provider}</td>
                <td>
                  {r.agent_id ?? ""} <code>{shortKey(r.public_key)}</code>
                </td>
                <td>{r.total_calls}</td>
                <td>{r.success_calls}</td>
                <td>{r.error_calls}</td>
                <td>
                  <Time at={r.last_used_at} />
                </td>
              </tr>
            ))}
          </tbody>
        </Table>
      )}
      <Pagination page={report.data?.pagination} onOffset={setOffset} />
      <h2>Recent events</h2>
      <Alert error={events.error} />
      {!events.data ? (
        <Loading />
      ) : events.data.events.length === 0 ? (
        <Empty>No events.</Empty>
      ) : (
        <Table label="Usage events">
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Service</th>
              <th scope="col">Subject</th>
              <th scope="col">Action</th>
              <th scope="col">Outcome</th>
              <th scope="col">Request</th>
            </tr>
          </thead>
          <tbody>
            {events.data.events.map((e) => (
              <tr key={e.event_id}>
                <td>
                  <Time at={e.received_at} />
                </td>
                <td>{e.service}</td>
                <td>{e.subject}</td>
                <td>
                  {e.protocol} {e.action}
                </td>
                <td>
                  {e.outcome}
                  {e.status_code ? ` (${e.status_code})` : ""}
                </td>
                <td class="break">
                  {[e.request_method, e.request_path].filter(Boolean).join(" ") || "—"}
                  {e.duration_ms !== null ? ` · ${e.duration_ms} ms` : ""}
                </td>
              </tr>
            ))}
          </tbody>
        </Table>
      )}
      <Pagination page={events.data?.pagination} onOffset={setEventsOffset} />
    </>
  );
}
