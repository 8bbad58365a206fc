import { useState } from "preact/hooks";
import { api } from "../api.ts";
import { shortKey } from "../claims.tsx";
import { apiPath } from "../ids.ts";
import { useSession } from "../session.ts";
import type { Page, UsageEvent, UsageReport } from "../types.ts";
import { Field, Time } from "../ui.tsx";
import { Fact, ListView, Table, usePaged, useTitle } from "../views.tsx";

const SORTS = [
  { value: "recent", label: "Most recent" },
  { value: "calls_desc", label: "Most calls" },
  { value: "subject_asc", label: "Subject A–Z" },
];

export function UsagePage() {
  const { user } = useSession();
  const base = apiPath("/v1/namespaces/{namespace}/usage", { namespace: user.namespace });
  const [sort, setSort] = useState("recent");
  const report = usePaged(
    (offset) => api.get<UsageReport>(base, { sort, limit: 50, offset }),
    [base, sort],
  );
  const events = usePaged(
    (offset) => api.get<Page<"events", UsageEvent>>(`${base}/events`, { limit: 25, offset }),
    [base],
  );
  useTitle("Usage");
  const s = report.data?.summary;
  return (
    <>
      <h1>Usage</h1>
      <p class="lede">
        What your agents did through services' gateways, as the services reported it.
      </p>
      {s && (
        <dl class="facts">
          <Fact term="Calls">{s.total_events}</Fact>
          <Fact term="Succeeded">{s.successful_events}</Fact>
          <Fact term="Failed">{s.failed_events}</Fact>
          <Fact term="Subjects / services / agents">
            {s.unique_subjects} / {s.unique_providers} / {s.unique_agents}
          </Fact>
        </dl>
      )}
      <div class="toolbar">
        <Field
          label="Sort"
          name="sort"
          value={sort}
          onInput={report.filter(setSort)}
          options={SORTS}
        />
      </div>
      <ListView list={report} items={(d) => d.rows} empty="No usage reported yet.">
        {(items) => (
          <Table
            label="Usage by subject, service and agent"
            columns={["Subject", "Service", "Agent", "Calls", "Succeeded", "Failed", "Last used"]}
          >
            {items.map((r) => (
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
          </Table>
        )}
      </ListView>
      <h2>Recent events</h2>
      <ListView list={events} items={(d) => d.events} empty="No events.">
        {(items) => (
          <Table
            label="Usage events"
            columns={["Time", "Service", "Subject", "Action", "Outcome", "Request"]}
          >
            {items.map((e) => (
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
          </Table>
        )}
      </ListView>
    </>
  );
}
