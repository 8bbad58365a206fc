import { useEffect, useState } from "preact/hooks";
import { api } from "../api.ts";
import { useSubmit } from "../forms.tsx";
import { apiPath } from "../ids.ts";
import { useSession } from "../session.ts";
import type { Page, Policy, Service } from "../types.ts";
import { Alert, Button, Empty, Field, FormError, Loading, toast, useAsync } from "../ui.tsx";
import { useTitle } from "../views.tsx";

/** Every service of the owner, page by page (the policy form lists them all). */
async function allServices(): Promise<Service[]> {
  const out: Service[] = [];
  for (let offset = 0; ; offset += 200) {
    const page = await api.get<Page<"services", Service>>("/v1/services", { limit: 200, offset });
    out.push(...page.services);
    if (!page.pagination.has_more || out.length >= 1000) return out;
  }
}

interface Row {
  slug: string;
  name: string;
}

/** The owner's services, then any other service the policy or the owner names, by slug. */
function rowsOf(data: { policy: Policy; services: Service[] }, extra: string[]): Row[] {
  const rows: Row[] = data.services.map((s) => ({ slug: s.slug, name: s.name }));
  const seen = new Set(rows.map((r) => r.slug));
  const named = [...data.policy.auto_approve_services, ...data.policy.blocked_services].map(
    (s) => s.slug,
  );
  for (const slug of [...named, ...extra])
    if (!seen.has(slug)) {
      seen.add(slug);
      rows.push({ slug, name: "Another owner's service" });
    }
  return rows;
}

export function PolicyPage() {
  const { user } = useSession();
  const path = apiPath("/v1/namespaces/{namespace}/policy", { namespace: user.namespace });
  const data = useAsync(async () => {
    const [policy, services] = await Promise.all([api.get<Policy>(path), allServices()]);
    return { policy, services };
  }, [path]);
  const [auto, setAuto] = useState<Set<string>>(new Set());
  const [blocked, setBlocked] = useState<Set<string>>(new Set());
  // Services of other owners (the agents' requests come from any service) named by slug.
  const [extra, setExtra] = useState<string[]>([]);
  const [slug, setSlug] = useState("");
  useTitle("Policy");
  useEffect(() => {
    if (!data.data) return;
    setAuto(new Set(data.data.policy.auto_approve_services.map((s) => s.slug)));
    setBlocked(new Set(data.data.policy.blocked_services.map((s) => s.slug)));
  }, [data.data]);
  const flip = (set: Set<string>, slug: string, on: boolean) => {
    const next = new Set(set);
    if (on) next.add(slug);
    else next.delete(slug);
    return next;
  };
  const { errors, submit: save } = useSubmit([], async () => {
    await api.put(path, { auto_approve_services: [...auto], blocked_services: [...blocked] });
    toast("Policy saved");
    await data.reload();
  });
  return (
    <>
      <h1>Policy</h1>
      <p class="lede">
        Requests from an auto-approved service are approved at once; requests from a blocked service
        are rejected at once. Everything else waits in your inbox.
      </p>
      <Alert error={data.error} />
      {!data.data ? (
        <Loading />
      ) : (
        <form onSubmit={save}>
          <FormError message={errors.general} />
          {rowsOf(data.data, extra).length === 0 && <Empty>No services yet.</Empty>}
          <ul class="cards" aria-label="Services">
            {rowsOf(data.data, extra).map((s) => (
              <li key={s.slug} class="card policy-row">
                <strong>{s.name}</strong> <code>{s.slug}</code>
                <label class="check">
                  <input
                    type="checkbox"
                    checked={auto.has(s.slug)}
                    onChange={(e) => {
                      const on = (e.currentTarget as HTMLInputElement).checked;
                      setAuto((a) => flip(a, s.slug, on));
                      if (on) setBlocked((b) => flip(b, s.slug, false));
                    }}
                  />{" "}
                  Auto-approve {s.slug}
                </label>
                <label class="check">
                  <input
                    type="checkbox"
                    checked={blocked.has(s.slug)}
                    onChange={(e) => {
                      const on = (e.currentTarget as HTMLInputElement).checked;
                      setBlocked((b) => flip(b, s.slug, on));
                      if (on) setAuto((a) => flip(a, s.slug, false));
                    }}
                  />{" "}
                  Block {s.slug}
                </label>
              </li>
            ))}
          </ul>
          <p class="muted">Services of other owners whose agents ask for your approval:</p>
          <div class="toolbar">
            <Field label="Another service's slug" name="extra" value={slug} onInput={setSlug} />
            <Button
              disabled={!slug.trim()}
              onClick={() => {
                const value = slug.trim().toLowerCase();
                setExtra((all) => (all.includes(value) ? all : [...all, value]));
                setSlug("");
              }}
            >
              Add to the list
            </Button>
          </div>
          <Button variant="primary" type="submit">
            Save policy
          </Button>
        </form>
      )}
    </>
  );
}
