import { useEffect, useState } from "preact/hooks";
import { api } from "../api.ts";
import { ConfirmDialog, FormActions, useSubmit } from "../forms.tsx";
import { apiPath, isId } from "../ids.ts";
import { navigate } from "../router.tsx";
import type { Service } from "../types.ts";
import { Button, Field, FormError, useAsync } from "../ui.tsx";
import { Fact, Pending } from "../views.tsx";
import { ApiKeysSection } from "./keys.tsx";
import { WebhooksSection } from "./webhooks.tsx";

export function ServicePage({ params }: { params: Record<string, string> }) {
  const id = params.serviceId!;
  const service = useAsync(
    () =>
      isId("service", id)
        ? api.get<Service>(apiPath("/v1/services/{service}", { service: id }))
        : Promise.reject(new Error("There is no service at this address.")),
    [id],
  );
  const [editing, setEditing] = useState(false);
  const [deleting, setDeleting] = useState(false);
  useEffect(() => {
    if (service.data) document.title = `${service.data.name} — Sigilum`;
  }, [service.data]);
  if (!service.data)
    return (
      <Pending title="Service" error={service.error}>
        <p>
          <a href="/services">All services</a>
        </p>
      </Pending>
    );
  const s = service.data;
  return (
    <>
      <p class="crumbs">
        <a href="/services">Services</a> /
      </p>
      <h1>{s.name}</h1>
      <dl class="facts">
        <Fact term="Slug">
          <code>{s.slug}</code>
        </Fact>
        <Fact term="Service id">
          <code>{s.id}</code>
        </Fact>
        <Fact term="Description">{s.description ?? "—"}</Fact>
      </dl>
      {editing ? (
        <EditServiceForm
          service={s}
          onDone={(updated) => {
            setEditing(false);
            if (updated) service.setData(() => updated);
          }}
        />
      ) : (
        <div class="actions">
          <Button onClick={() => setEditing(true)}>Edit service</Button>
          <Button variant="danger" onClick={() => setDeleting(true)}>
            Delete service
          </Button>
        </div>
      )}
      <DeleteServiceDialog service={s} open={deleting} onClose={() => setDeleting(false)} />
      <ApiKeysSection service={s} />
      <WebhooksSection service={s} />
    </>
  );
}

function EditServiceForm(props: { service: Service; onDone: (updated: Service | null) => void }) {
  const { errors, submit } = useSubmit(["name", "description"], async (v) => {
    const updated = await api.patch<Service>(
      apiPath("/v1/services/{service}", { service: props.service.id }),
      { name: v.name ?? "", description: v.description?.trim() ? v.description : null },
    );
    props.onDone(updated);
  });
  return (
    <form class="card" onSubmit={submit} noValidate aria-label="Edit service">
      <FormError message={errors.general} />
      <Field
        label="Name"
        name="name"
        defaultValue={props.service.name}
        required
        maxLength={100}
        error={errors.fields.name}
      />
      <Field
        label="Description"
        name="description"
        multiline
        defaultValue={props.service.description ?? ""}
        maxLength={1000}
        error={errors.fields.description}
      />
      <FormActions submit="Save" onCancel={() => props.onDone(null)} />
    </form>
  );
}

function DeleteServiceDialog(props: { service: Service; open: boolean; onClose: () => void }) {
  const remove = async () => {
    await api.del(apiPath("/v1/services/{service}", { service: props.service.id }));
    props.onClose();
    navigate("/services");
  };
  return (
    <ConfirmDialog
      title={`Delete ${props.service.name}?`}
      open={props.open}
      onClose={props.onClose}
      action="Delete service"
      onConfirm={remove}
      confirm={{ label: "Type the slug to confirm", expected: props.service.slug }}
    >
      <p>
        This deletes the service's API keys and webhooks at once (undelivered webhook deliveries are
        cancelled). Its agents' authorizations stay in their history but are orphaned and never
        verify again, even if someone registers the slug <code>{props.service.slug}</code> later.
      </p>
    </ConfirmDialog>
  );
}
