import { useEffect, useState } from "preact/hooks";
import { api } from "../api.ts";
import { apiPath } from "../ids.ts";
import { useSession } from "../session.ts";
import type { CreatedToken, Page, Session, Token } from "../types.ts";
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
import { PasskeysSection, PasswordSection } from "./credentials.tsx";
import { isoFromLocal } from "./keys.tsx";

export function AccountPage() {
  const { user } = useSession();
  useEffect(() => {
    document.title = "Account — Sigilum";
  }, []);
  return (
    <>
      <h1>Account</h1>
      <dl class="facts">
        <div>
          <dt>Namespace</dt>
          <dd>
            <code>{user.namespace}</code>
          </dd>
        </div>
        <div>
          <dt>DID</dt>
          <dd>
            <code>{user.did}</code>
          </dd>
        </div>
        <div>
          <dt>Email</dt>
          <dd>{user.email}</dd>
        </div>
        <div>
          <dt>Member since</dt>
          <dd>
            <Time at={user.created_at} />
          </dd>
        </div>
      </dl>
      <PasskeysSection />
      <PasswordSection />
      <SessionsSection />
      <TokensSection />
      <DeleteAccountSection />
    </>
  );
}

function SessionsSection() {
  const [offset, setOffset] = useState(0);
  const list = useAsync(
    () => api.get<Page<"sessions", Session>>("/v1/auth/sessions", { limit: 50, offset }),
    [offset],
  );
  const [error, setError] = useState<unknown>(null);
  const end = async (s: Session) => {
    try {
      await api.del(apiPath("/v1/auth/sessions/{session}", { session: s.id }));
      toast("Session ended");
      await list.reload();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <section aria-labelledby="sessions-heading">
      <h2 id="sessions-heading">Sessions</h2>
      <Alert error={error ?? list.error} />
      {!list.data ? (
        <Loading />
      ) : (
        <Table label="Sessions">
          <thead>
            <tr>
              <th scope="col">Device</th>
              <th scope="col">IP</th>
              <th scope="col">Signed in</th>
              <th scope="col">Expires</th>
              <th scope="col">
                <span class="offscreen">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {list.data.sessions.map((s) => (
              <tr key={s.id}>
                <td class="break">{s.user_agent ?? "Unknown device"}</td>
                <td>{s.ip ?? "—"}</td>
                <td>
                  <Time at={s.created_at} />
                </td>
                <td>
                  <Time at={s.expires_at} />
                </td>
                <td>
                  {s.current ? (
                    <strong>This session</strong>
                  ) : (
                    <Button class="btn-small" onClick={() => end(s)}>
                      End session
                    </Button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </Table>
      )}
      <Pagination page={list.data?.pagination} onOffset={setOffset} />
    </section>
  );
}

function TokensSection() {
  const [offset, setOffset] = useState(0);
  const list = useAsync(
    () => api.get<Page<"tokens", Token>>("/v1/auth/tokens", { limit: 50, offset }),
    [offset],
  );
  const errors = useFormErrors();
  const [creating, setCreating] = useState(false);
  const [shown, setShown] = useState<CreatedToken | null>(null);
  const [error, setError] = useState<unknown>(null);
  const create = async (event: Event) => {
    const v = formValues(event);
    errors.clear();
    const body: Record<string, string> = { name: (v.name ?? "").trim() };
    const expires = isoFromLocal(v.expires_at);
    if (expires) body.expires_at = expires;
    try {
      setShown(await api.post<CreatedToken>("/v1/auth/tokens", body));
      setCreating(false);
      await list.reload();
    } catch (err) {
      errors.show(err, ["name", "expires_at"]);
    }
  };
  const revoke = async (t: Token) => {
    try {
      await api.del(apiPath("/v1/auth/tokens/{token}", { token: t.id }));
      toast("Token revoked");
      await list.reload();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <section aria-labelledby="tokens-heading">
      <h2 id="tokens-heading">Access tokens</h2>
      <p class="muted">
        Personal access tokens let scripts call the API as you:{" "}
        <code>Authorization: Bearer sgl_pat_…</code>.
      </p>
      {creating ? (
        <form class="card" onSubmit={create} noValidate aria-label="Token details">
          <FormError message={errors.general} />
          <Field label="Name" name="name" required maxLength={100} error={errors.fields.name} />
          <Field
            label="Expires"
            name="expires_at"
            type="datetime-local"
            hint="Optional."
            error={errors.fields.expires_at}
          />
          <div class="actions">
            <Button variant="primary" type="submit">
              Create token
            </Button>
            <Button onClick={() => setCreating(false)}>Cancel</Button>
          </div>
        </form>
      ) : (
        <Button variant="primary" onClick={() => setCreating(true)}>
          Create token
        </Button>
      )}
      <Alert error={error ?? list.error} />
      {!list.data ? (
        <Loading />
      ) : list.data.tokens.length === 0 ? (
        <Empty>No access tokens.</Empty>
      ) : (
        <Table label="Access tokens">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Prefix</th>
              <th scope="col">Created</th>
              <th scope="col">Last used</th>
              <th scope="col">Expires</th>
              <th scope="col">
                <span class="offscreen">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {list.data.tokens.map((t) => (
              <tr key={t.id}>
                <td>{t.name}</td>
                <td>
                  <code>{t.prefix}…</code>
                </td>
                <td>
                  <Time at={t.created_at} />
                </td>
                <td>
                  <Time at={t.last_used_at} />
                </td>
                <td>
                  <Time at={t.expires_at} />
                </td>
                <td>
                  <Button
                    class="btn-small"
                    variant="danger"
                    onClick={() => revoke(t)}
                    aria-label={`Revoke ${t.name}`}
                  >
                    Revoke
                  </Button>
                </td>
              </tr>
            ))}
          </tbody>
        </Table>
      )}
      <Pagination page={list.data?.pagination} onOffset={setOffset} />
      <Dialog title="Token created" open={shown !== null} onClose={() => setShown(null)}>
        <p class="warning">Copy it now: it is shown only once.</p>
        <output class="secret" aria-label="New access token">
          <code>{shown?.token}</code>
        </output>
        <div class="actions">
          <CopyButton text={shown?.token ?? ""} label="Copy token" />
          <Button variant="primary" onClick={() => setShown(null)}>
            Done
          </Button>
        </div>
      </Dialog>
    </section>
  );
}

function DeleteAccountSection() {
  const { user } = useSession();
  const [open, setOpen] = useState(false);
  const [typed, setTyped] = useState("");
  const [error, setError] = useState<unknown>(null);
  const remove = async (event: Event) => {
    event.preventDefault();
    try {
      await api.del("/v1/auth/account");
      setOpen(false);
      location.assign("/signin");
    } catch (err) {
      setError(err);
    }
  };
  return (
    <section aria-labelledby="delete-heading">
      <h2 id="delete-heading">Delete everything</h2>
      <p class="muted">
        Deletes your account, services, API keys, webhooks and every authorization in your
        namespace. This cannot be undone.
      </p>
      <Button variant="danger" onClick={() => setOpen(true)}>
        Delete account
      </Button>
      <Dialog title="Delete your account?" open={open} onClose={() => setOpen(false)}>
        <form onSubmit={remove}>
          <p>
            Everything in <code>{user.namespace}</code> is deleted at once: services, their keys and
            webhooks, pending deliveries, sessions, tokens, passkeys and all authorizations. The
            namespace becomes free for anyone to take.
          </p>
          <Alert error={error} />
          <Field
            label="Type the namespace to confirm"
            name="confirm"
            value={typed}
            onInput={setTyped}
            autocomplete="off"
          />
          <div class="actions">
            <Button variant="danger" type="submit" disabled={typed !== user.namespace}>
              Delete account
            </Button>
            <Button onClick={() => setOpen(false)}>Cancel</Button>
          </div>
        </form>
      </Dialog>
    </section>
  );
}
