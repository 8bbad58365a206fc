import { useState } from "preact/hooks";
import { api } from "../api.ts";
import { apiPath } from "../ids.ts";
import type { ApiKey, CreatedKey, Page, Service } from "../types.ts";
import {
  Alert,
  Button,
  CopyButton,
  Dialog,
  Empty,
  Field,
  FormError,
  formValues,
  Loading,
  Pagination,
  Table,
  Time,
  toast,
  useAsync,
  useFormErrors,
} from "../ui.tsx";

/** Turns a `datetime-local` value into an ISO timestamp (empty → none). */
export function isoFromLocal(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? value : date.toISOString();
}

export function ApiKeysSection({ service }: { service: Service }) {
  const base = apiPath("/v1/services/{service}/keys", { service: service.id });
  const [offset, setOffset] = useState(0);
  const keys = useAsync(
    () => api.get<Page<"keys", ApiKey>>(base, { limit: 50, offset }),
    [base, offset],
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
      <Alert error={keys.error} />
      {!keys.data ? (
        <Loading />
      ) : keys.data.keys.length === 0 ? (
        <Empty>No API keys yet.</Empty>
      ) : (
        <Table label="API keys">
          <thead>
            <tr>
              <th scope="col">Prefix</th>
              <th scope="col">Name</th>
              <th scope="col">Environment</th>
              <th scope="col">Status</th>
              <th scope="col">Created</th>
              <th scope="col">Last used</th>
              <th scope="col">Expires</th>
              <th scope="col">
                <span class="offscreen">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {keys.data.keys.map((k) => (
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
          </tbody>
        </Table>
      )}
      <Pagination page={keys.data?.pagination} onOffset={setOffset} />
      <NewKeyDialog created={shown} onClose={() => setShown(null)} />
      <RevokeKeyDialog
        base={base}
        apiKey={revoking}
        onClose={() => setRevoking(null)}
        onDone={() => {
          setRevoking(null);
          toast("API key revoked");
          void keys.reload();
        }}
      />
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
  const errors = useFormErrors();
  const submit = async (event: Event) => {
    const v = formValues(event);
    errors.clear();
    const body: Record<string, string> = { environment: v.environment ?? "prod" };
    if (v.name?.trim()) body.name = v.name;
    const expires = isoFromLocal(v.expires_at);
    if (expires) body.expires_at = expires;
    try {
      props.onCreated(await api.post<CreatedKey>(props.base, body));
    } catch (error) {
      errors.show(error, ["name", "environment", "expires_at"]);
    }
  };
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
      <Field
        label="Expires"
        name="expires_at"
        type="datetime-local"
        hint="Optional."
        error={errors.fields.expires_at}
      />
      <div class="actions">
        <Button variant="primary" type="submit">
          Create API key
        </Button>
        <Button onClick={props.onCancel}>Cancel</Button>
      </div>
    </form>
  );
}

/** The one time a key is visible: closing the dialog forgets it. */
function NewKeyDialog(props: { created: CreatedKey | null; onClose: () => void }) {
  return (
    <Dialog title="API key created" open={props.created !== null} onClose={props.onClose}>
      {props.created && (
        <>
          <p class="warning">
            Copy it now and keep it somewhere safe: it is shown only once and cannot be shown again.
          </p>
          <output class="secret" aria-label="New API key">
            <code>{props.created.key}</code>
          </output>
          <div class="actions">
            <CopyButton text={props.created.key} label="Copy key" />
            <Button variant="primary" onClick={props.onClose}>
              Done
            </Button>
          </div>
        </>
      )}
    </Dialog>
  );
}

function RevokeKeyDialog(props: {
  base: string;
  apiKey: ApiKey | null;
  onClose: () => void;
  onDone: () => void;
}) {
  const [error, setError] = useState<unknown>(null);
  const revoke = async () => {
    try {
      await api.del(apiPath(`${props.base}/{apiKey}`, { apiKey: props.apiKey!.id }));
      props.onDone();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <Dialog title="Revoke this API key?" open={props.apiKey !== null} onClose={props.onClose}>
      <p>
        Requests made with <code>{props.apiKey?.prefix}…</code> fail from now on. This cannot be
        undone.
      </p>
      <Alert error={error} />
      <div class="actions">
        <Button variant="danger" onClick={revoke}>
          Revoke
        </Button>
        <Button onClick={props.onClose}>Cancel</Button>
      </div>
    </Dialog>
  );
}

function RollKeyDialog(props: {
  base: string;
  apiKey: ApiKey | null;
  onClose: () => void;
  onRolled: (key: CreatedKey) => void;
}) {
  const errors = useFormErrors();
  const submit = async (event: Event) => {
    const v = formValues(event);
    errors.clear();
    try {
      const hours = Number(v.grace_hours ?? "24");
      const rolled = await api.post<CreatedKey>(
        apiPath(`${props.base}/{apiKey}/roll`, { apiKey: props.apiKey!.id }),
        {
          grace_seconds: Math.round(hours * 3600),
        },
      );
      props.onRolled(rolled);
    } catch (error) {
      errors.show(error, ["grace_seconds"]);
    }
  };
  return (
    <Dialog title="Roll this API key?" open={props.apiKey !== null} onClose={props.onClose}>
      <form onSubmit={submit} noValidate>
        <p>
          A new key replaces <code>{props.apiKey?.prefix}…</code>; the old one keeps working for the
          grace period so you can deploy the new one.
        </p>
        <FormError message={errors.general} />
        <Field
          label="Grace period (hours)"
          name="grace_hours"
          type="number"
          defaultValue="24"
          hint="0 to 168 hours."
          error={errors.fields.grace_seconds}
        />
        <div class="actions">
          <Button variant="primary" type="submit">
            Roll
          </Button>
          <Button onClick={props.onClose}>Cancel</Button>
        </div>
      </form>
    </Dialog>
  );
}
