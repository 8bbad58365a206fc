import { useState } from "preact/hooks";
import { api } from "../api.ts";
import { ConfirmDialog, FormActions, ShownOnceDialog, useSubmit } from "../forms.tsx";
import { apiPath } from "../ids.ts";
import { useSession } from "../session.ts";
import type { CreatedToken, Page, Session, Token } from "../types.ts";
import { Button, Field, FormError, Time, toast } from "../ui.tsx";
import { Fact, ListView, Table, usePaged, useTitle } from "../views.tsx";
import { PasskeysSection, PasswordSection } from "./credentials.tsx";
import { ExpiresField, isoFromLocal } from "./keys.tsx";

export function AccountPage() {
  const { user } = useSession();
  useTitle("Account");
  return (
    <>
      <h1>Account</h1>
      <dl class="facts">
        <Fact term="Namespace">
          <code>{user.namespace}</code>
        </Fact>
        <Fact term="DID">
          <code>{user.did}</code>
        </Fact>
        <Fact term="Email">{user.email}</Fact>
        <Fact term="Member since">
          <Time at={user.created_at} />
        </Fact>
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
  const list = usePaged(
    (offset) => api.get<Page<"sessions", Session>>("/v1/auth/sessions", { limit: 50, offset }),
    [],
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
      <ListView list={list} items={(d) => d.sessions} error={error}>
        {(items) => (
          <Table label="Sessions" columns={["Device", "IP", "Signed in", "Expires"]} actions>
            {items.map((s) => (
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
          </Table>
        )}
      </ListView>
    </section>
  );
}

function TokensSection() {
  const list = usePaged(
    (offset) => api.get<Page<"tokens", Token>>("/v1/auth/tokens", { limit: 50, offset }),
    [],
  );
  const [creating, setCreating] = useState(false);
  const [shown, setShown] = useState<CreatedToken | null>(null);
  const [error, setError] = useState<unknown>(null);
  const { errors, submit } = useSubmit(["name", "expires_at"], async (v) => {
    const body: Record<string, string> = { name: (v.name ?? "").trim() };
    const expires = isoFromLocal(v.expires_at);
    if (expires) body.expires_at = expires;
    setShown(await api.post<CreatedToken>("/v1/auth/tokens", body));
    setCreating(false);
    await list.reload();
  });
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
        <form class="card" onSubmit={submit} noValidate aria-label="Token details">
          <FormError message={errors.general} />
          <Field label="Name" name="name" required maxLength={100} error={errors.fields.name} />
          <ExpiresField error={errors.fields.expires_at} />
          <FormActions submit="Create token" onCancel={() => setCreating(false)} />
        </form>
      ) : (
        <Button variant="primary" onClick={() => setCreating(true)}>
          Create token
        </Button>
      )}
      <ListView list={list} items={(d) => d.tokens} empty="No access tokens." error={error}>
        {(items) => (
          <Table
            label="Access tokens"
            columns={["Name", "Prefix", "Created", "Last used", "Expires"]}
            actions
          >
            {items.map((t) => (
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
          </Table>
        )}
      </ListView>
      <ShownOnceDialog
        title="Token created"
        value={shown?.token ?? null}
        label="New access token"
        copyLabel="Copy token"
        warning="Copy it now: it is shown only once."
        onClose={() => setShown(null)}
      />
    </section>
  );
}

function DeleteAccountSection() {
  const { user } = useSession();
  const [open, setOpen] = useState(false);
  const remove = async () => {
    await api.del("/v1/auth/account");
    setOpen(false);
    location.assign("/signin");
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
      <ConfirmDialog
        title="Delete your account?"
        open={open}
        onClose={() => setOpen(false)}
        action="Delete account"
        onConfirm={remove}
        confirm={{ label: "Type the namespace to confirm", expected: user.namespace }}
      >
        <p>
          Everything in <code>{user.namespace}</code> is deleted at once: services, their keys and
          webhooks, pending deliveries, sessions, tokens, passkeys and all authorizations. The
          namespace becomes free for anyone to take.
        </p>
      </ConfirmDialog>
    </section>
  );
}
