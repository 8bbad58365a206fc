import { useEffect, useState } from "preact/hooks";
import { api } from "../api.ts";
import { navigate } from "../router.tsx";
import type { Page, Service } from "../types.ts";
import {
  Alert,
  Button,
  Empty,
  Field,
  FormError,
  formValues,
  Loading,
  Pagination,
  Table,
  useAsync,
  useFormErrors,
} from "../ui.tsx";

const SERVICE_FIELDS = ["slug", "name", "description"];

export function ServicesPage() {
  const [offset, setOffset] = useState(0);
  const [creating, setCreating] = useState(false);
  const list = useAsync(
    () => api.get<Page<"services", Service>>("/v1/services", { limit: 50, offset }),
    [offset],
  );
  useEffect(() => {
    document.title = "Services — Sigilum";
  }, []);
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
      <Alert error={list.error} />
      {!list.data ? (
        <Loading />
      ) : list.data.services.length === 0 ? (
        <Empty>No services yet. Create one to get an API key for it.</Empty>
      ) : (
        <Table label="Services">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Slug</th>
              <th scope="col">Active keys</th>
              <th scope="col">Webhooks</th>
            </tr>
          </thead>
          <tbody>
            {list.data.services.map((s) => (
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
          </tbody>
        </Table>
      )}
      <Pagination page={list.data?.pagination} onOffset={setOffset} />
    </>
  );
}

function CreateServiceForm(props: { onCancel: () => void }) {
  const errors = useFormErrors();
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    const v = formValues(event);
    errors.clear();
    setBusy(true);
    try {
      const body: Record<string, string> = {
        slug: (v.slug ?? "").trim().toLowerCase(),
        name: v.name ?? "",
      };
      if (v.description?.trim()) body.description = v.description;
      const service = await api.post<Service>("/v1/services", body);
      navigate(`/services/${service.id}`);
    } catch (error) {
      errors.show(error, SERVICE_FIELDS);
    } finally {
      setBusy(false);
    }
  };
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
      <div class="actions">
        <Button variant="primary" type="submit" disabled={busy}>
          Create service
        </Button>
        <Button onClick={props.onCancel}>Cancel</Button>
      </div>
    </form>
  );
}
