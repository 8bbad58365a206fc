import { useState } from "preact/hooks";
import { api, messageOf } from "../api.ts";
import { ConfirmDialog, FormActions, GraceField, graceSeconds, useSubmit } from "../forms.tsx";
import { apiPath, isId } from "../ids.ts";
import { navigate, useLocation } from "../router.tsx";
import type { Page, Service, Webhook } from "../types.ts";
import { Alert, Button, Dialog, FormError, Time, toast, useAsync } from "../ui.tsx";
import { Fact, Pending, useTitle } from "../views.tsx";
import { Deliveries } from "./deliveries.tsx";
import { healthOf, SecretDialog, WebhookForm } from "./webhooks.tsx";

/**
 * The API addresses a webhook under its service. Links carry `?service=`; without it the
 * owner's services are searched page by page.
 */
async function findWebhook(webhookId: string, serviceHint: string | null): Promise<Webhook> {
  if (!isId("webhook", webhookId)) throw new Error("There is no webhook at this address.");
  if (isId("service", serviceHint))
    return api.get<Webhook>(
      apiPath("/v1/services/{service}/webhooks/{webhook}", {
        service: serviceHint,
        webhook: webhookId,
      }),
    );
  for (let offset = 0; ; offset += 200) {
    const page = await api.get<Page<"services", Service>>("/v1/services", { limit: 200, offset });
    for (const service of page.services) {
      try {
        return await api.get<Webhook>(
          apiPath("/v1/services/{service}/webhooks/{webhook}", {
            service: service.id,
            webhook: webhookId,
          }),
        );
      } catch {
        // Not this service's.
      }
    }
    if (!page.pagination.has_more) throw new Error("There is no webhook at this address.");
  }
}

export function WebhookPage({ params }: { params: Record<string, string> }) {
  const { query } = useLocation();
  const id = params.webhookId!;
  const hook = useAsync(() => findWebhook(id, query.get("service")), [id]);
  useTitle("Webhook");
  if (!hook.data) return <Pending title="Webhook" error={hook.error} />;
  return <WebhookDetail webhook={hook.data} onChange={(w) => hook.setData(() => w)} />;
}

function WebhookDetail({
  webhook: w,
  onChange,
}: {
  webhook: Webhook;
  onChange: (w: Webhook) => void;
}) {
  const base = apiPath("/v1/services/{service}/webhooks/{webhook}", {
    service: w.service_id,
    webhook: w.id,
  });
  const [editing, setEditing] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const [rotating, setRotating] = useState(false);
  const [secret, setSecret] = useState<{ secret: string; until: string | null } | null>(null);
  const [testResult, setTestResult] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const health = healthOf(w);

  const sendTest = async () => {
    setTestResult("Sending…");
    try {
      const r = await api.post<{
        status_code: number | null;
        duration_ms: number;
        success: boolean;
        error?: string;
      }>(`${base}/test`);
      setTestResult(
        r.success
          ? `Test event delivered: HTTP ${r.status_code} in ${r.duration_ms} ms.`
          : `Test event failed${r.status_code ? `: HTTP ${r.status_code}` : ""}${r.error ? ` — ${r.error}` : ""} (${r.duration_ms} ms).`,
      );
    } catch (err) {
      setTestResult(`Test event not sent: ${messageOf(err)}`);
    }
  };
  const toggle = async () => {
    try {
      onChange(await api.patch<Webhook>(base, { enabled: !w.enabled }));
      toast(w.enabled ? "Webhook disabled" : "Webhook enabled");
    } catch (err) {
      setError(err);
    }
  };

  return (
    <>
      <p class="crumbs">
        <a href={`/services/${w.service_id}`}>Service</a> /
      </p>
      <h1>Webhook</h1>
      <dl class="facts">
        <Fact term="URL" class="break">
          {w.url}
        </Fact>
        <Fact term="Health">
          <span class={`badge badge-${health.tone}`}>{health.label}</span>
        </Fact>
        <Fact term="Last success">
          <Time at={w.last_success_at} />
        </Fact>
        <Fact term="Last failure">
          <Time at={w.last_failure_at} />
        </Fact>
        <Fact term="Failures in a row">{w.consecutive_failures}</Fact>
        <Fact term="Events">{w.events.join(", ")}</Fact>
        <Fact term="Description">{w.description ?? "—"}</Fact>
        <Fact term="Secret rotated">
          <Time at={w.secret_rotated_at} />
        </Fact>
      </dl>
      <Alert error={error} />
      {editing ? (
        <WebhookForm
          base={apiPath("/v1/services/{service}/webhooks", { service: w.service_id })}
          webhook={w}
          onSaved={(saved) => {
            setEditing(false);
            onChange(saved);
          }}
          onCancel={() => setEditing(false)}
        />
      ) : (
        <div class="actions wrap">
          <Button variant="primary" onClick={sendTest}>
            Send test event
          </Button>
          <Button onClick={toggle}>{w.enabled ? "Disable" : "Enable"}</Button>
          <Button onClick={() => setRotating(true)}>Rotate secret</Button>
          <Button onClick={() => setEditing(true)}>Edit webhook</Button>
          <Button variant="danger" onClick={() => setDeleting(true)}>
            Delete webhook
          </Button>
        </div>
      )}
      {testResult && (
        <p class="result" role="status">
          {testResult}
        </p>
      )}
      <RotateDialog
        base={base}
        open={rotating}
        onClose={() => setRotating(false)}
        onRotated={(s) => {
          setRotating(false);
          setSecret(s);
        }}
      />
      <SecretDialog
        title="Secret rotated"
        secret={secret?.secret ?? null}
        note={
          secret?.until
            ? `The previous secret keeps signing until ${new Date(secret.until).toLocaleString()}.`
            : ""
        }
        onClose={() => setSecret(null)}
      />
      <DeleteWebhookDialog
        base={base}
        webhook={w}
        open={deleting}
        onClose={() => setDeleting(false)}
      />
      <Deliveries base={base} />
    </>
  );
}

function RotateDialog(props: {
  base: string;
  open: boolean;
  onClose: () => void;
  onRotated: (s: { secret: string; until: string | null }) => void;
}) {
  const { errors, submit } = useSubmit(["grace_seconds"], async (v) => {
    const r = await api.post<{ secret: string; previous_secret_expires_at: string | null }>(
      `${props.base}/rotate-secret`,
      { grace_seconds: graceSeconds(v) },
    );
    props.onRotated({ secret: r.secret, until: r.previous_secret_expires_at });
  });
  return (
    <Dialog title="Rotate the signing secret?" open={props.open} onClose={props.onClose}>
      <form onSubmit={submit} noValidate>
        <p>
          Deliveries are signed with both secrets during the grace period, so your receiver can
          switch over.
        </p>
        <FormError message={errors.general} />
        <GraceField error={errors.fields.grace_seconds} />
        <FormActions submit="Rotate secret" onCancel={props.onClose} />
      </form>
    </Dialog>
  );
}

function DeleteWebhookDialog(props: {
  base: string;
  webhook: Webhook;
  open: boolean;
  onClose: () => void;
}) {
  const remove = async () => {
    await api.del(props.base);
    props.onClose();
    toast("Webhook deleted");
    navigate(`/services/${props.webhook.service_id}`);
  };
  return (
    <ConfirmDialog
      title="Delete this webhook?"
      open={props.open}
      onClose={props.onClose}
      action="Delete webhook"
      onConfirm={remove}
    >
      <p>Nothing more is sent to {props.webhook.url}; pending deliveries are cancelled.</p>
    </ConfirmDialog>
  );
}
