import { useState } from "preact/hooks";
import { api } from "../api.ts";
import { FormActions, useSubmit } from "../forms.tsx";
import { navigate } from "../router.tsx";
import type { Page, Service } from "../types.ts";
import { Button, Field, FormError } from "../ui.tsx";
import { ListView, Table, usePaged, useTitle } from "../views.tsx";

const SERVICE_FIELDS = ["slug", "name", "description"];

export function ServicesPage() {
  const [creating, setCreating] = useState(false);
  const list = usePaged(
    (offset) => api.get<Page<"services", Service>>("/v1/services", { limit: 50, offset }),
    [],
  );
  useTitle("Services");
  return (
    <>
      <h1>Services</h1>
      <p class="lede">The services your agents ask to use. Each has its API keys and webhooks.</p>
      {creating ? (
        <CreateServiceForm onCancel={() => setCreating(false)} />
      ) : (
        <Button variant="primary" onClick={() => setCreating(true)}>
          Create service
        </Button>
      )}
      <ListView
        list={list}
        items={(d) => d.services}
        empty="No services yet. Create one to get an API key for it."
      >
        {(items) => (
          <Table label="Services" columns={["Name", "Slug", "Active keys", "Webhooks"]}>
            {items.map((s) => (
              <tr key={s.id}>
                <td>
                  <a href={`/services/${s.id}`}>{s.name}</a>
                </td>
                <td>
                  <code>{s.slug}</code>
                </td>
                <td>{s.active_key_count}</td>
                <td>{s.webhook_count}</td>
              </tr>
            ))}
          </Table>
        )}
      </ListView>
    </>
  );
}

function CreateServiceForm(props: { onCancel: () => void }) {
  const [busy, setBusy] = useState(false);
  const { errors, submit } = useSubmit(SERVICE_FIELDS, async (v) => {
    const body: Record<string, string> = {
      slug: (v.slug ?? "").trim().toLowerCase(),
      name: v.name ?? "",
    };
    if (v.description?.trim()) body.description = v.description;
    setBusy(true);
    try {
      const service = await api.post<Service>("/v1/services", body);
      navigate(`/services/${service.id}`);
    } finally {
      setBusy(false);
    }
  });
  return (
    <form class="card" onSubmit={submit} noValidate aria-label="New service">
      <FormError message={errors.general} />
      <Field
        label="Slug"
        name="slug"
        hint="Lower-case letters, digits and hyphens; unique on this server; cannot change later."
        required
        error={errors.fields.slug}
      />
      <Field label="Name" name="name" required maxLength={100} error={errors.fields.name} />
      <Field
        label="Description"
        name="description"
        multiline
        maxLength={1000}
        error={errors.fields.description}
      />
      <FormActions submit="Create service" disabled={busy} onCancel={props.onCancel} />
    </form>
  );
}
