import { useState } from "preact/hooks";
import { api } from "../api.ts";
import { FormActions, ShownOnceDialog, useSubmit } from "../forms.tsx";
import { apiPath } from "../ids.ts";
import { DEFAULT_EVENTS, EVENT_CATALOG, type Page, type Service, type Webhook } from "../types.ts";
import { Button, Field, FormError, Time } from "../ui.tsx";
import { ListView, Table, usePaged } from "../views.tsx";

export function webhookHref(webhook: Pick<Webhook, "id" | "service_id">): string {
  return `/webhooks/${webhook.id}?service=${webhook.service_id}`;
}

/** Health in a few words: disabled and why, failing, or fine. */
export function healthOf(w: Webhook): { label: string; tone: string } {
  if (!w.enabled)
    return {
      label: `Disabled${w.disabled_reason ? `: ${w.disabled_reason}` : ""}`,
      tone: "revoked",
    };
  if (w.consecutive_failures > 0)
    return { label: `Failing (${w.consecutive_failures} in a row)`, tone: "rejected" };
  if (w.last_success_at) return { label: "Healthy", tone: "approved" };
  return { label: "No deliveries yet", tone: "pending" };
}

export function WebhooksSection({ service }: { service: Service }) {
  const base = apiPath("/v1/services/{service}/webhooks", { service: service.id });
  const hooks = usePaged(
    (offset) => api.get<Page<"webhooks", Webhook>>(base, { limit: 50, offset }),
    [base],
  );
  const [adding, setAdding] = useState(false);
  const [secret, setSecret] = useState<string | null>(null);
  return (
    <section aria-labelledby="webhooks-heading">
      <h2 id="webhooks-heading">Webhooks</h2>
      <p class="muted">Sigilum tells your service about decisions by calling these URLs.</p>
      {adding ? (
        <WebhookForm
          base={base}
          onSaved={(created) => {
            setAdding(false);
            setSecret(created.secret ?? null);
            void hooks.reload();
          }}
          onCancel={() => setAdding(false)}
        />
      ) : (
        <Button variant="primary" onClick={() => setAdding(true)}>
          Add webhook
        </Button>
      )}
      <ListView list={hooks} items={(d) => d.webhooks} empty="No webhooks yet.">
        {(items) => (
          <Table
            label="Webhooks"
            columns={["URL", "Health", "Last success", "Last failure", "Failures in a row"]}
          >
            {items.map((w) => {
              const health = healthOf(w);
              return (
                <tr key={w.id}>
                  <td>
                    <a href={webhookHref(w)}>{w.url}</a>
                  </td>
                  <td>
                    <span class={`badge badge-${health.tone}`}>{health.label}</span>
                  </td>
                  <td>
                    <Time at={w.last_success_at} />
                  </td>
                  <td>
                    <Time at={w.last_failure_at} />
                  </td>
                  <td>{w.consecutive_failures}</td>
                </tr>
              );
            })}
          </Table>
        )}
      </ListView>
      <SecretDialog title="Webhook added" secret={secret} onClose={() => setSecret(null)} />
    </section>
  );
}

/** Create (POST to the list) or edit (PATCH the webhook) with the same fields. */
export function WebhookForm(props: {
  base: string;
  webhook?: Webhook;
  onSaved: (saved: Webhook & { secret?: string }) => void;
  onCancel: () => void;
}) {
  const editing = props.webhook !== undefined;
  const chosen = new Set<string>(props.webhook?.events ?? DEFAULT_EVENTS);
  const { errors, submit } = useSubmit(["url", "events", "description"], async (v, form) => {
    const events = [...form.querySelectorAll<HTMLInputElement>("input[name=events]:checked")].map(
      (i) => i.value,
    );
    const body: Record<string, unknown> = { url: (v.url ?? "").trim(), events };
    if (v.description?.trim()) body.description = v.description;
    else if (editing && props.webhook?.description) body.description = null;
    props.onSaved(
      editing
        ? await api.patch<Webhook>(
            apiPath(`${props.base}/{webhook}`, { webhook: props.webhook!.id }),
            body,
          )
        : await api.post<Webhook & { secret: string }>(props.base, body),
    );
  });
  return (
    <form
      class="card"
      onSubmit={submit}
      noValidate
      aria-label={editing ? "Webhook settings" : "Webhook details"}
    >
      <FormError message={errors.general} />
      <Field
        label="URL"
        name="url"
        type="url"
        defaultValue={props.webhook?.url}
        placeholder="https://example.com/sigilum/webhook"
        hint="An https:// address on the public internet."
        required
        error={errors.fields.url}
      />
      <fieldset aria-describedby={errors.fields.events ? "events-error" : undefined}>
        <legend>Events</legend>
        {EVENT_CATALOG.map((name) => (
          <label key={name} class="check">
            <input type="checkbox" name="events" value={name} defaultChecked={chosen.has(name)} />{" "}
            {name}
          </label>
        ))}
        {errors.fields.events && (
          <p class="field-error" id="events-error" role="alert">
            {errors.fields.events}
          </p>
        )}
      </fieldset>
      <Field
        label="Description"
        name="description"
        defaultValue={props.webhook?.description ?? ""}
        maxLength={1000}
        error={errors.fields.description}
      />
      <FormActions submit={editing ? "Save" : "Add webhook"} onCancel={props.onCancel} />
    </form>
  );
}

export function SecretDialog(props: {
  title: string;
  secret: string | null;
  onClose: () => void;
  note?: string;
}) {
  return (
    <ShownOnceDialog
      title={props.title}
      value={props.secret}
      label="Webhook secret"
      copyLabel="Copy secret"
      warning={
        <>
          Copy it now: your receiver needs it to check signatures, and it is shown only once.{" "}
          {props.note}
        </>
      }
      onClose={props.onClose}
    />
  );
}
