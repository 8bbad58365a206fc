import { useState } from "preact/hooks";
import { api } from "../api.ts";
import {
  ConfirmDialog,
  FormActions,
  GraceField,
  graceSeconds,
  ShownOnceDialog,
  useSubmit,
} from "../forms.tsx";
import { apiPath } from "../ids.ts";
import type { ApiKey, CreatedKey, Page, Service } from "../types.ts";
import { Button, Dialog, Field, FormError, Time, toast } from "../ui.tsx";
import { ListView, Table, usePaged } from "../views.tsx";

/** Turns a `datetime-local` value into an ISO timestamp (empty → none). */
export function isoFromLocal(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? value : date.toISOString();
}

export function ApiKeysSection({ service }: { service: Service }) {
  const base = apiPath("/v1/services/{service}/keys", { service: service.id });
  const keys = usePaged(
    (offset) => api.get<Page<"keys", ApiKey>>(base, { limit: 50, offset }),
    [base],
  );
  const [creating, setCreating] = useState(false);
  const [shown, setShown] = useState<CreatedKey | null>(null);
  const [revoking, setRevoking] = useState<ApiKey | null>(null);
  const [rolling, setRolling] = useState<ApiKey | null>(null);
  const created = (key: CreatedKey) => {
    setCreating(false);
    setShown(key);
    void keys.reload();
  };
  const revoke = async () => {
    await api.del(apiPath(`${base}/{apiKey}`, { apiKey: revoking!.id }));
    setRevoking(null);
    toast("API key revoked");
    void keys.reload();
  };
  return (
    <section aria-labelledby="keys-heading">
      <h2 id="keys-heading">API keys</h2>
      <p class="muted">
        Your service calls Sigilum with these. A key is shown once, when it is made.
      </p>
      {creating ? (
        <CreateKeyForm base={base} onCreated={created} onCancel={() => setCreating(false)} />
      ) : (
        <Button variant="primary" onClick={() => setCreating(true)}>
          Create API key
        </Button>
      )}
      <ListView list={keys} items={(d) => d.keys} empty="No API keys yet.">
        {(items) => (
          <Table
            label="API keys"
            columns={["Prefix", "Name", "Environment", "Status", "Created", "Last used", "Expires"]}
            actions
          >
            {items.map((k) => (
              <tr key={k.id}>
                <td>
                  <code>{k.prefix}…</code>
                </td>
                <td>{k.name ?? "—"}</td>
                <td>{k.environment}</td>
                <td>
                  <span class={`badge badge-${k.status}`}>{k.status}</span>
                </td>
                <td>
                  <Time at={k.created_at} />
                </td>
                <td>
                  <Time at={k.last_used_at} />
                </td>
                <td>
                  <Time at={k.expires_at} />
                </td>
                <td class="row-actions">
                  {k.status === "active" && (
                    <>
                      <Button
                        class="btn-small"
                        onClick={() => setRolling(k)}
                        aria-label={`Roll ${k.prefix}`}
                      >
                        Roll
                      </Button>
                      <Button
                        class="btn-small"
                        variant="danger"
                        onClick={() => setRevoking(k)}
                        aria-label={`Revoke ${k.prefix}`}
                      >
                        Revoke
                      </Button>
                    </>
                  )}
                </td>
              </tr>
            ))}
          </Table>
        )}
      </ListView>
      <ShownOnceDialog
        title="API key created"
        value={shown?.key ?? null}
        label="New API key"
        copyLabel="Copy key"
        warning="Copy it now and keep it somewhere safe: it is shown only once and cannot be shown again."
        onClose={() => setShown(null)}
      />
      <ConfirmDialog
        title="Revoke this API key?"
        open={revoking !== null}
        onClose={() => setRevoking(null)}
        action="Revoke"
        onConfirm={revoke}
      >
        <p>
          Requests made with <code>{revoking?.prefix}…</code> fail from now on. This cannot be
          undone.
        </p>
      </ConfirmDialog>
      <RollKeyDialog
        base={base}
        apiKey={rolling}
        onClose={() => setRolling(null)}
        onRolled={(k) => {
          setRolling(null);
          setShown(k);
          void keys.reload();
        }}
      />
    </section>
  );
}

function CreateKeyForm(props: {
  base: string;
  onCreated: (key: CreatedKey) => void;
  onCancel: () => void;
}) {
  const { errors, submit } = useSubmit(["name", "environment", "expires_at"], async (v) => {
    const body: Record<string, string> = { environment: v.environment ?? "prod" };
    if (v.name?.trim()) body.name = v.name;
    const expires = isoFromLocal(v.expires_at);
    if (expires) body.expires_at = expires;
    props.onCreated(await api.post<CreatedKey>(props.base, body));
  });
  return (
    <form class="card" onSubmit={submit} noValidate aria-label="Key details">
      <FormError message={errors.general} />
      <Field label="Name" name="name" maxLength={100} error={errors.fields.name} />
      <Field
        label="Environment"
        name="environment"
        defaultValue="prod"
        options={[
          { value: "prod", label: "Production (sgl_sk_prod_…)" },
          { value: "test", label: "Test (sgl_sk_test_…)" },
        ]}
        error={errors.fields.environment}
      />
      <ExpiresField error={errors.fields.expires_at} />
      <FormActions submit="Create API key" onCancel={props.onCancel} />
    </form>
  );
}

/** When a key or token stops working; optional (datetime-local, see isoFromLocal). */
export function ExpiresField(props: { error: string | undefined }) {
  return (
    <Field
      label="Expires"
      name="expires_at"
      type="datetime-local"
      hint="Optional."
      error={props.error}
    />
  );
}

function RollKeyDialog(props: {
  base: string;
  apiKey: ApiKey | null;
  onClose: () => void;
  onRolled: (key: CreatedKey) => void;
}) {
  const { errors, submit } = useSubmit(["grace_seconds"], async (v) => {
    const path = apiPath(`${props.base}/{apiKey}/roll`, { apiKey: props.apiKey!.id });
    props.onRolled(await api.post<CreatedKey>(path, { grace_seconds: graceSeconds(v) }));
  });
  return (
    <Dialog title="Roll this API key?" open={props.apiKey !== null} onClose={props.onClose}>
      <form onSubmit={submit} noValidate>
        <p>
          A new key replaces <code>{props.apiKey?.prefix}…</code>; the old one keeps working for the
          grace period so you can deploy the new one.
        </p>
        <FormError message={errors.general} />
        <GraceField hint="0 to 168 hours." error={errors.fields.grace_seconds} />
        <FormActions submit="Roll" onCancel={props.onClose} />
      </form>
    </Dialog>
  );
}
