import { useEffect, useState } from "preact/hooks";
import { api, messageOf, type Pagination as Page } from "../api.ts";
import { AgentKey, agentLabel, decide, ReasonDialog } from "../claims.tsx";
import { apiPath } from "../ids.ts";
import { useClaimEvents } from "../live.ts";
import { useSession } from "../session.ts";
import type { Claim } from "../types.ts";
import { Alert, ago, Button, Empty, Loading, Pagination, toast } from "../ui.tsx";

const LIMIT = 50;

interface Listing {
  claims: Claim[];
  pagination: Page;
}

/** Applies one claim event to the pending list: new pending ones on top, decided ones leave. */
export function applyClaimEvent(list: Listing, claim: Claim, firstPage: boolean): Listing {
  const present = list.claims.some((c) => c.claim_id === claim.claim_id);
  if (claim.status === "pending") {
    if (present || !firstPage)
      return present ? list : { ...list, pagination: bump(list.pagination, 1) };
    return { claims: [claim, ...list.claims], pagination: bump(list.pagination, 1) };
  }
  if (!present) return list;
  return {
    claims: list.claims.filter((c) => c.claim_id !== claim.claim_id),
    pagination: bump(list.pagination, -1),
  };
}

const bump = (page: Page, by: number): Page => ({ ...page, total: Math.max(0, page.total + by) });

export function InboxPage() {
  const { user } = useSession();
  const [offset, setOffset] = useState(0);
  const [list, setList] = useState<Listing | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [rejecting, setRejecting] = useState<Claim[] | null>(null);
  const [now, setNow] = useState(Date.now());

  const load = async () => {
    try {
      const path = apiPath("/v1/namespaces/{namespace}/claims", { namespace: user.namespace });
      setList(await api.get<Listing>(path, { status: "pending", limit: LIMIT, offset }));
      setError(null);
    } catch (err) {
      setError(err);
    }
  };
  useEffect(() => {
    void load();
  }, [offset]);
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 30_000);
    return () => clearInterval(timer);
  }, []);
  useClaimEvents(
    user.namespace,
    (claim) => setList((l) => (l ? applyClaimEvent(l, claim, offset === 0) : l)),
    () => void load(),
  );

  const pending = list?.pagination.total ?? 0;
  useEffect(() => {
    document.title = pending > 0 ? `(${pending}) Inbox — Sigilum` : "Inbox — Sigilum";
  }, [pending]);
  useEffect(
    () => () => {
      document.title = "Sigilum";
    },
    [],
  );

  const claims = list?.claims ?? [];
  const chosen = claims.filter((c) => selected.has(c.claim_id));

  const removeDecided = (decided: Claim[]) =>
    setList((l) => decided.reduce((acc, c) => (acc ? applyClaimEvent(acc, c, true) : acc), l));

  const run = async (targets: Claim[], decision: "approve" | "reject", reason?: string) => {
    const done: Claim[] = [];
    const failed: string[] = [];
    for (const claim of targets) {
      try {
        done.push(await decide(claim.claim_id, decision, reason));
      } catch (err) {
        failed.push(`${agentLabel(claim)}: ${messageOf(err)}`);
      }
    }
    removeDecided(done);
    setSelected((s) => new Set([...s].filter((id) => !done.some((c) => c.claim_id === id))));
    const verb = decision === "approve" ? "Approved" : "Rejected";
    if (done.length > 0)
      toast(`${verb} ${done.length === 1 ? agentLabel(done[0]!) : `${done.length} requests`}`);
    if (failed.length > 0) throw new Error(failed.join("\n"));
  };

  const approve = (targets: Claim[]) => run(targets, "approve").catch(setError);

  return (
    <>
      <h1>Inbox</h1>
      <p class="lede">
        Agents waiting for your decision, newest first. New requests appear here on their own.
      </p>
      <Alert error={error} />
      {!list ? (
        <Loading />
      ) : claims.length === 0 ? (
        <Empty>No pending requests</Empty>
      ) : (
        <>
          <div class="toolbar">
            <Button
              variant="primary"
              disabled={chosen.length === 0}
              onClick={() => approve(chosen)}
            >
              Approve selected
            </Button>
            <Button
              variant="danger"
              disabled={chosen.length === 0}
              onClick={() => setRejecting(chosen)}
            >
              Reject selected
            </Button>
            <span class="muted">{chosen.length > 0 ? `${chosen.length} selected` : ""}</span>
          </div>
          <ul class="cards" aria-label="Pending requests">
            {claims.map((claim) => (
              <li key={claim.claim_id} class="card claim-card">
                <div class="claim-head">
                  <label class="check">
                    <input
                      type="checkbox"
                      checked={selected.has(claim.claim_id)}
                      aria-label={`Select ${agentLabel(claim)}`}
                      onChange={(e) => {
                        const on = (e.currentTarget as HTMLInputElement).checked;
                        setSelected((s) => {
                          const next = new Set(s);
                          if (on) next.add(claim.claim_id);
                          else next.delete(claim.claim_id);
                          return next;
                        });
                      }}
                    />
                  </label>
                  <strong class="service">{claim.service}</strong>
                  <a href={`/agents/${claim.claim_id}`}>{agentLabel(claim)}</a>
                  <span class="muted">{ago(claim.created_at, now)}</span>
                </div>
                <dl class="facts">
                  <div>
                    <dt>Agent key</dt>
                    <dd>
                      <AgentKey claim={claim} />
                    </dd>
                  </div>
                  {claim.agent_id && (
                    <div>
                      <dt>Agent id</dt>
                      <dd>{claim.agent_id}</dd>
                    </div>
                  )}
                  <div>
                    <dt>Subject</dt>
                    <dd>{claim.subject ?? "—"}</dd>
                  </div>
                  <div>
                    <dt>IP</dt>
                    <dd>{claim.agent_ip}</dd>
                  </div>
                </dl>
                <div class="actions">
                  <Button
                    variant="primary"
                    aria-label={`Approve ${agentLabel(claim)}`}
                    onClick={() => approve([claim])}
                  >
                    Approve
                  </Button>
                  <Button
                    variant="danger"
                    aria-label={`Reject ${agentLabel(claim)}`}
                    onClick={() => setRejecting([claim])}
                  >
                    Reject
                  </Button>
                </div>
              </li>
            ))}
          </ul>
          <Pagination page={list.pagination} onOffset={setOffset} />
        </>
      )}
      <ReasonDialog
        title={
          rejecting && rejecting.length > 1
            ? `Reject ${rejecting.length} requests`
            : "Reject request"
        }
        action="Reject"
        open={rejecting !== null}
        onClose={() => setRejecting(null)}
        onConfirm={(reason) => run(rejecting ?? [], "reject", reason || undefined)}
      />
    </>
  );
}
