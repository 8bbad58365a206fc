import { useEffect, useState } from "preact/hooks";
import { api } from "../api.ts";
import { apiPath, isId } from "../ids.ts";
import { navigate } from "../router.tsx";
import type { Service } from "../types.ts";
import {
  Alert,
  Button,
  Dialog,
  Field,
  FormError,
  formValues,
  Loading,
  useAsync,
  useFormErrors,
} from "../ui.tsx";
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
      <>
        <h1>Service</h1>
        {service.error ? <Alert error={service.error} /> : <Loading />}
        <p>
          <a href="/services">All services</a>
        </p>
      </>
    );
  const s = service.data;
  return (
    <>
      <p class="crumbs">
        <a href="/services">Services</a> /
      </p>
      <h1>{s.name}</h1>
      <dl class="facts">
        <div>
          <dt>Slug</dt>
          <dd>
            <code>{s.slug}</code>
          </dd>
        </div>
        <div>
          <dt>Service id</dt>
          <dd>
            <code>{s.id}</code>
          </dd>
        </div>
        <div>
          <dt>Description</dt>
          <dd>{s.description ?? "—"}</dd>
        </div>
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
  const errors = useFormErrors();
  const submit = async (event: Event) => {
    const v = formValues(event);
    errors.clear();
    try {
      const updated = await api.patch<Service>(
        apiPath("/v1/services/{service}", { service: props.service.id }),
        {
          name: v.name ?? "",
          description: v.description?.trim() ? v.description : null,
        },
      );
      props.onDone(updated);
    } catch (error) {
      errors.show(error, ["name", "description"]);
    }
  };
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
      <div class="actions">
        <Button variant="primary" type="submit">
          Save
        </Button>
        <Button onClick={() => props.onDone(null)}>Cancel</Button>
      </div>
    </form>
  );
}

function DeleteServiceDialog(props: { service: Service; open: boolean; onClose: () => void }) {
  const [typed, setTyped] = useState("");
  const [error, setError] = useState<unknown>(null);
  const remove = async (event: Event) => {
    event.preventDefault();
    try {
      await api.del(apiPath("/v1/services/{service}", { service: props.service.id }));
      props.onClose();
      navigate("/services");
    } catch (err) {
      setError(err);
    }
  };
  return (
    <Dialog title={`Delete ${props.service.name}?`} open={props.open} onClose={props.onClose}>
      <form onSubmit={remove}>
        <p>
          This deletes the service's API keys and webhooks at once (undelivered webhook deliveries
          are cancelled). Its agents' authorizations stay in their history but are orphaned and
          never verify again, even if someone registers the slug <code>{props.service.slug}</code>{" "}
          later.
        </p>
        <Alert error={error} />
        <Field
          label="Type the slug to confirm"
          name="confirm"
          value={typed}
          onInput={setTyped}
          autocomplete="off"
        />
        <div class="actions">
          <Button variant="danger" type="submit" disabled={typed !== props.service.slug}>
            Delete service
          </Button>
          <Button onClick={props.onClose}>Cancel</Button>
        </div>
      </form>
    </Dialog>
  );
}
