import { useState } from "preact/hooks";
import { api } from "./api.ts";
import { FormActions, useSubmit } from "./forms.tsx";
import { apiPath } from "./ids.ts";
import type { Claim } from "./types.ts";
import { CopyButton, Dialog, Field, FormError } from "./ui.tsx";

// Shared by the inbox, the agents list and the claim page.

export function agentLabel(claim: Claim): string {
  return claim.agent_name ?? claim.agent_id ?? claim.claim_id;
}

/** `z6Mk…` + the last characters: enough to tell keys apart at a glance. */
export function shortKey(agentKey: string): string {
  const key = agentKey.replace(/^did:key:/, "");
  return key.length > 16 ? `${key.slice(0, 8)}…${key.slice(-6)}` : key;
}

export function AgentKey(props: { claim: Claim }) {
  const key = props.claim.agent_key;
  return (
    <span class="agent-key">
      <code title={key}>{shortKey(key)}</code>
      <CopyButton text={key} label="Copy agent key" />
      <details class="inline-details">
        <summary>Show full key</summary>
        <code class="full-key">{key}</code>
        <code class="full-key">{props.claim.public_key}</code>
      </details>
    </span>
  );
}

export function StatusBadge(props: { status: string }) {
  return <span class={`badge badge-${props.status}`}>{props.status}</span>;
}

export type Decision = "approve" | "reject" | "revoke";

export function decide(claimId: string, decision: Decision, reason?: string): Promise<Claim> {
  const body = reason ? { reason } : {};
  return api.post<Claim>(apiPath(`/v1/claims/{claim}/${decision}`, { claim: claimId }), body);
}

/** The optional-reason dialog for reject and revoke; `onConfirm` gets the reason. */
export function ReasonDialog(props: {
  title: string;
  action: "Reject" | "Revoke";
  open: boolean;
  onClose: () => void;
  onConfirm: (reason: string) => Promise<void>;
  children?: preact.ComponentChildren;
}) {
  const [busy, setBusy] = useState(false);
  const { errors, submit } = useSubmit(["reason"], async ({ reason }) => {
    setBusy(true);
    try {
      await props.onConfirm((reason ?? "").trim());
      props.onClose();
    } finally {
      setBusy(false);
    }
  });
  return (
    <Dialog title={props.title} open={props.open} onClose={props.onClose}>
      <form onSubmit={submit}>
        {props.children}
        <FormError message={errors.general} />
        <Field
          label="Reason"
          name="reason"
          hint="Optional; kept in the history."
          maxLength={500}
          error={errors.fields.reason}
        />
        <FormActions
          submit={props.action}
          variant="danger"
          disabled={busy}
          onCancel={props.onClose}
        />
      </form>
    </Dialog>
  );
}
