import { useEffect, useState } from "preact/hooks";
import { api } from "../api.ts";
import { AgentKey, agentLabel, decide, ReasonDialog, StatusBadge, shortKey } from "../claims.tsx";
import { apiPath, isId } from "../ids.ts";
import { useSession } from "../session.ts";
import type { Claim, ClaimWithHistory, Page, Service } from "../types.ts";
import {
  Alert,
  Button,
  Empty,
  Field,
  Loading,
  Pagination,
  Table,
  Time,
  toast,
  useAsync,
} from "../ui.tsx";

const STATUSES = ["", "pending", "approved", "rejected", "revoked", "expired"];

export function AgentsPage() {
  const { user } = useSession();
  const [status, setStatus] = useState("");
  const [service, setService] = useState("");
  const [offset, setOffset] = useState(0);
  const services = useAsync(
    () => api.get<Page<"services", Service>>("/v1/services", { limit: 200 }),
    [],
  );
  const claims = useAsync(
    () =>
      api.get<Page<"claims", Claim>>(
        apiPath("/v1/namespaces/{namespace}/claims", { namespace: user.namespace }),
        {
          status,
          service,
          limit: 50,
          offset,
        },
      ),
    [status, service, offset],
  );
  // Requests come from other owners' services too: the filter offers every slug seen so far.
  const [seen, setSeen] = useState<Set<string>>(new Set());
  useEffect(() => {
    const slugs = claims.data?.claims.map((c) => c.service) ?? [];
    if (slugs.some((slug) => !seen.has(slug))) setSeen(new Set([...seen, ...slugs]));
  }, [claims.data, seen]);
  useEffect(() => {
    document.title = "Agents — Sigilum";
  }, []);
  return (
    <>
      <h1>Agents</h1>
      <p class="lede">Every authorization request in your namespace, newest first.</p>
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
        <Field
          label="Service"
          name="service"
          value={service}
          onInput={(v) => {
            setService(v);
            setOffset(0);
          }}
          options={[
            { value: "", label: "All" },
            ...serviceOptions(services.data?.services ?? [], seen),
          ]}
        />
      </div>
      <Alert error={claims.error} />
      {!claims.data ? (
        <Loading />
      ) : claims.data.claims.length === 0 ? (
        <Empty>No agents match.</Empty>
      ) : (
        <Table label="Agents">
          <thead>
            <tr>
              <th scope="col">Agent</th>
              <th scope="col">Service</th>
              <th scope="col">Status</th>
              <th scope="col">Key</th>
              <th scope="col">Subject</th>
              <th scope="col">Requested</th>
            </tr>
          </thead>
          <tbody>
            {claims.data.claims.map((c) => (
              <tr key={c.claim_id}>
                <td>
                  <a href={`/agents/${c.claim_id}`}>{agentLabel(c)}</a>
                </td>
                <td>{c.service}</td>
                <td>
                  <StatusBadge status={c.status} />
                </td>
                <td>
                  <code>{shortKey(c.agent_key)}</code>
                </td>
                <td>{c.subject ?? "—"}</td>
                <td>
                  <Time at={c.created_at} />
                </td>
              </tr>
            ))}
          </tbody>
        </Table>
      )}
      <Pagination page={claims.data?.pagination} onOffset={setOffset} />
    </>
  );
}

function serviceOptions(own: Service[], seen: Set<string>) {
  const options = own.map((s) => ({ value: s.slug, label: s.name }));
  for (const slug of [...seen].sort())
    if (!own.some((s) => s.slug === slug)) options.push({ value: slug, label: slug });
  return options;
}

export function ClaimPage({ params }: { params: Record<string, string> }) {
  const id = params.claimId!;
  const claim = useAsync(
    () =>
      isId("claim", id)
        ? api.get<ClaimWithHistory>(apiPath("/v1/claims/{claim}", { claim: id }))
        : Promise.reject(new Error("There is no authorization request at this address.")),
    [id],
  );
  const [revoking, setRevoking] = useState(false);
  const [deciding, setDeciding] = useState(false);
  useEffect(() => {
    if (claim.data) document.title = `${agentLabel(claim.data)} — Sigilum`;
  }, [claim.data]);
  if (!claim.data)
    return (
      <>
        <h1>Agent</h1>
        {claim.error ? <Alert error={claim.error} /> : <Loading />}
      </>
    );
  const c = claim.data;
  const act = async (decision: "approve" | "reject" | "revoke", reason?: string) => {
    await decide(c.claim_id, decision, reason);
    toast(
      `${agentLabel(c)}: ${decision === "approve" ? "approved" : decision === "reject" ? "rejected" : "revoked"}`,
    );
    await claim.reload();
  };
  return (
    <>
      <p class="crumbs">
        <a href="/agents">Agents</a> /
      </p>
      <h1>{agentLabel(c)}</h1>
      <dl class="facts">
        <div>
          <dt>Status</dt>
          <dd>
            <StatusBadge status={c.status} />
          </dd>
        </div>
        <div>
          <dt>Service</dt>
          <dd>{c.service_id ? c.service : `${c.service} (deleted)`}</dd>
        </div>
        <div>
          <dt>Agent key</dt>
          <dd>
            <AgentKey claim={c} />
          </dd>
        </div>
        <div>
          <dt>Agent id</dt>
          <dd>{c.agent_id ?? "—"}</dd>
        </div>
        <div>
          <dt>Subject</dt>
          <dd>{c.subject ?? "—"}</dd>
        </div>
        <div>
          <dt>IP</dt>
          <dd>{c.agent_ip}</dd>
        </div>
        <div>
          <dt>Claim id</dt>
          <dd>
            <code>{c.claim_id}</code>
          </dd>
        </div>
      </dl>
      <div class="actions">
        {c.status === "pending" && (
          <>
            <Button variant="primary" onClick={() => void act("approve")}>
              Approve
            </Button>
            <Button variant="danger" onClick={() => setDeciding(true)}>
              Reject
            </Button>
          </>
        )}
        {c.status === "approved" && (
          <Button variant="danger" onClick={() => setRevoking(true)}>
            Revoke
          </Button>
        )}
      </div>
      <h2 id="history-heading">History</h2>
      <ol class="timeline" aria-label="History">
        {c.history.map((h, i) => (
          <li key={i}>
            <p>
              <strong>{`${h.from ?? "new"} → ${h.to}`}</strong> <Time at={h.at} />
            </p>
            <p class="muted">
              by {h.actor}
              {h.reason ? ` — ${h.reason}` : ""}
            </p>
          </li>
        ))}
      </ol>
      <ReasonDialog
        title={`Revoke ${agentLabel(c)}?`}
        action="Revoke"
        open={revoking}
        onClose={() => setRevoking(false)}
        onConfirm={(reason) => act("revoke", reason || undefined)}
      >
        <p>The agent stops being authorized for {c.service} at once.</p>
      </ReasonDialog>
      <ReasonDialog
        title="Reject request"
        action="Reject"
        open={deciding}
        onClose={() => setDeciding(false)}
        onConfirm={(reason) => act("reject", reason || undefined)}
      />
    </>
  );
}
