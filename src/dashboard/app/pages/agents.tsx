import { useEffect, useState } from "preact/hooks";
import { api } from "../api.ts";
import { AgentKey, agentLabel, decide, ReasonDialog, StatusBadge, shortKey } from "../claims.tsx";
import { apiPath, isId } from "../ids.ts";
import { useSession } from "../session.ts";
import type { Claim, ClaimWithHistory, Page, Service } from "../types.ts";
import { Button, Field, Time, toast, useAsync } from "../ui.tsx";
import { Fact, ListView, Pending, Table, usePaged, useTitle } from "../views.tsx";

const STATUSES = ["", "pending", "approved", "rejected", "revoked", "expired"];

export function AgentsPage() {
  const { user } = useSession();
  const [status, setStatus] = useState("");
  const [service, setService] = useState("");
  const services = useAsync(
    () => api.get<Page<"services", Service>>("/v1/services", { limit: 200 }),
    [],
  );
  const claims = usePaged(
    (offset) =>
      api.get<Page<"claims", Claim>>(
        apiPath("/v1/namespaces/{namespace}/claims", { namespace: user.namespace }),
        { status, service, limit: 50, offset },
      ),
    [status, service],
  );
  // Requests come from other owners' services too: the filter offers every slug seen so far.
  const [seen, setSeen] = useState<Set<string>>(new Set());
  useEffect(() => {
    const slugs = claims.data?.claims.map((c) => c.service) ?? [];
    if (slugs.some((slug) => !seen.has(slug))) setSeen(new Set([...seen, ...slugs]));
  }, [claims.data, seen]);
  useTitle("Agents");
  return (
    <>
      <h1>Agents</h1>
      <p class="lede">Every authorization request in your namespace, newest first.</p>
      <div class="toolbar">
        <Field
          label="Status"
          name="status"
          value={status}
          onInput={claims.filter(setStatus)}
          options={STATUSES.map((s) => ({ value: s, label: s || "All" }))}
        />
        <Field
          label="Service"
          name="service"
          value={service}
          onInput={claims.filter(setService)}
          options={[
            { value: "", label: "All" },
            ...serviceOptions(services.data?.services ?? [], seen),
          ]}
        />
      </div>
      <ListView list={claims} items={(d) => d.claims} empty="No agents match.">
        {(items) => (
          <Table
            label="Agents"
            columns={["Agent", "Service", "Status", "Key", "Subject", "Requested"]}
          >
            {items.map((c) => (
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
          </Table>
        )}
      </ListView>
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
  if (!claim.data) return <Pending title="Agent" error={claim.error} />;
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
        <Fact term="Status">
          <StatusBadge status={c.status} />
        </Fact>
        <Fact term="Service">{c.service_id ? c.service : `${c.service} (deleted)`}</Fact>
        <Fact term="Agent key">
          <AgentKey claim={c} />
        </Fact>
        <Fact term="Agent id">{c.agent_id ?? "—"}</Fact>
        <Fact term="Subject">{c.subject ?? "—"}</Fact>
        <Fact term="IP">{c.agent_ip}</Fact>
        <Fact term="Claim id">
          <code>{c.claim_id}</code>
        </Fact>
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
