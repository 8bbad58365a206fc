import { useState } from "preact/hooks";
import { ApiError, api } from "../api.ts";
import { ConfirmDialog, FormActions, useSubmit } from "../forms.tsx";
import { apiPath } from "../ids.ts";
import { addPasskey, ceremonyMessage } from "../passkeys.ts";
import { useSession } from "../session.ts";
import type { Page, Passkey } from "../types.ts";
import { Button, Dialog, Field, FormError, Time, toast } from "../ui.tsx";
import { ListView, usePaged } from "../views.tsx";

// The account's ways to sign in: passkeys (add, rename, delete) and the password.

/** Paginated like every list (GET /v1/auth/passkeys). */
function listPasskeys(offset: number) {
  return api.get<Page<"passkeys", Passkey>>("/v1/auth/passkeys", { limit: 50, offset });
}

export function PasskeysSection() {
  const { refresh } = useSession();
  const list = usePaged(listPasskeys, []);
  const [error, setError] = useState<unknown>(null);
  const [renaming, setRenaming] = useState<Passkey | null>(null);
  const [deleting, setDeleting] = useState<Passkey | null>(null);
  const add = async () => {
    setError(null);
    try {
      await addPasskey();
      toast("Passkey added");
      await Promise.all([list.reload(), refresh()]);
    } catch (err) {
      setError(err instanceof ApiError ? err : new Error(ceremonyMessage(err)));
    }
  };
  const done = async (message: string) => {
    setRenaming(null);
    setDeleting(null);
    toast(message);
    await Promise.all([list.reload(), refresh()]);
  };
  return (
    <section aria-labelledby="passkeys-heading">
      <h2 id="passkeys-heading">Passkeys</h2>
      <p class="muted">
        Sign in with your device's screen lock or a security key instead of a password.
      </p>
      <Button variant="primary" onClick={add}>
        Add passkey
      </Button>
      <ListView list={list} items={(d) => d.passkeys} empty="No passkeys yet." error={error}>
        {(items) => (
          <ul class="cards" aria-label="Passkeys">
            {items.map((p) => (
              <li key={p.id} class="card claim-head">
                <strong>{p.name || "Unnamed passkey"}</strong>
                <span class="muted">
                  added <Time at={p.created_at} />
                  {p.last_used_at ? (
                    <>
                      , last used <Time at={p.last_used_at} />
                    </>
                  ) : null}
                </span>
                <Button class="btn-small" onClick={() => setRenaming(p)}>
                  Rename
                </Button>
                <Button class="btn-small" variant="danger" onClick={() => setDeleting(p)}>
                  Delete
                </Button>
              </li>
            ))}
          </ul>
        )}
      </ListView>
      <RenamePasskeyDialog
        passkey={renaming}
        onClose={() => setRenaming(null)}
        onDone={() => done("Passkey renamed")}
      />
      <ConfirmDialog
        title="Delete this passkey?"
        open={deleting !== null}
        onClose={() => setDeleting(null)}
        action="Delete"
        // LAST_CREDENTIAL refusals show as the API words them.
        onConfirm={async () => {
          await api.del(passkeyPath(deleting!));
          await done("Passkey deleted");
        }}
      >
        <p>You can no longer sign in with “{deleting?.name || "Unnamed passkey"}”.</p>
      </ConfirmDialog>
    </section>
  );
}

const passkeyPath = (p: Passkey) => apiPath("/v1/auth/passkeys/{passkey}", { passkey: p.id });

function RenamePasskeyDialog(props: {
  passkey: Passkey | null;
  onClose: () => void;
  onDone: () => void;
}) {
  const { errors, submit } = useSubmit(["name"], async ({ name }) => {
    await api.patch(passkeyPath(props.passkey!), { name: (name ?? "").trim() });
    props.onDone();
  });
  return (
    <Dialog title="Rename passkey" open={props.passkey !== null} onClose={props.onClose}>
      <form onSubmit={submit} noValidate>
        <FormError message={errors.general} />
        <Field
          label="Passkey name"
          name="name"
          defaultValue={props.passkey?.name ?? ""}
          maxLength={100}
          required
          error={errors.fields.name}
        />
        <FormActions submit="Save" onCancel={props.onClose} />
      </form>
    </Dialog>
  );
}

export function PasswordSection() {
  const { user, refresh } = useSession();
  const [key, setKey] = useState(0);
  const { errors, submit } = useSubmit(["current_password", "new_password"], async (v) => {
    const body: Record<string, string> = { new_password: v.new_password ?? "" };
    if (user.has_password) body.current_password = v.current_password ?? "";
    await api.post("/v1/auth/password", body);
    toast(user.has_password ? "Password changed; your other sessions were ended" : "Password set");
    setKey((k) => k + 1);
    await refresh();
  });
  const action = user.has_password ? "Change password" : "Set password";
  return (
    <section aria-labelledby="password-heading">
      <h2 id="password-heading">Password</h2>
      <p class="muted">
        {user.has_password
          ? "Changing it signs you out everywhere else."
          : "You sign in with passkeys only. A password lets you script the API or sign in without a passkey."}
      </p>
      <form key={key} class="card" onSubmit={submit} noValidate>
        <FormError message={errors.general} />
        {user.has_password && (
          <Field
            label="Current password"
            name="current_password"
            type="password"
            autocomplete="current-password"
            error={errors.fields.current_password}
          />
        )}
        <Field
          label="New password"
          name="new_password"
          type="password"
          autocomplete="new-password"
          hint="At least 10 characters."
          error={errors.fields.new_password}
        />
        <Button variant="primary" type="submit">
          {action}
        </Button>
      </form>
    </section>
  );
}
