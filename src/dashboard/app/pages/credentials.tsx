import { useEffect, useState } from "preact/hooks";
import { ApiError, api } from "../api.ts";
import { apiPath } from "../ids.ts";
import { addPasskey, ceremonyMessage } from "../passkeys.ts";
import { useSession } from "../session.ts";
import type { Page, Passkey } from "../types.ts";
import {
  Alert,
  Button,
  Dialog,
  Empty,
  Field,
  FormError,
  formValues,
  Loading,
  Pagination,
  Time,
  toast,
  useAsync,
  useFormErrors,
} from "../ui.tsx";

// The account's ways to sign in: passkeys (add, rename, delete) and the password.

type PasskeyList = Page<"passkeys", Passkey> | { passkeys: Passkey[]; pagination?: undefined };

/** Paginated like every list; a server whose passkey list takes no paging gets asked plainly. */
async function listPasskeys(offset: number): Promise<PasskeyList> {
  try {
    return await api.get<PasskeyList>("/v1/auth/passkeys", { limit: 50, offset });
  } catch (error) {
    if (error instanceof ApiError && error.code === "VALIDATION_ERROR" && offset === 0)
      return api.get<PasskeyList>("/v1/auth/passkeys");
    throw error;
  }
}

export function PasskeysSection() {
  const { refresh } = useSession();
  const [offset, setOffset] = useState(0);
  const list = useAsync(() => listPasskeys(offset), [offset]);
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
      <Alert error={error ?? list.error} />
      {!list.data ? (
        <Loading />
      ) : list.data.passkeys.length === 0 ? (
        <Empty>No passkeys yet.</Empty>
      ) : (
        <ul class="cards" aria-label="Passkeys">
          {list.data.passkeys.map((p) => (
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
      <Pagination page={list.data?.pagination} onOffset={setOffset} />
      <RenamePasskeyDialog
        passkey={renaming}
        onClose={() => setRenaming(null)}
        onDone={() => done("Passkey renamed")}
      />
      <DeletePasskeyDialog
        passkey={deleting}
        onClose={() => setDeleting(null)}
        onDone={() => done("Passkey deleted")}
      />
    </section>
  );
}

const passkeyPath = (p: Passkey) => apiPath("/v1/auth/passkeys/{passkey}", { passkey: p.id });

function RenamePasskeyDialog(props: {
  passkey: Passkey | null;
  onClose: () => void;
  onDone: () => void;
}) {
  const errors = useFormErrors();
  const submit = async (event: Event) => {
    const { name } = formValues(event);
    errors.clear();
    try {
      await api.patch(passkeyPath(props.passkey!), { name: (name ?? "").trim() });
      props.onDone();
    } catch (error) {
      errors.show(error, ["name"]);
    }
  };
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
        <div class="actions">
          <Button variant="primary" type="submit">
            Save
          </Button>
          <Button onClick={props.onClose}>Cancel</Button>
        </div>
      </form>
    </Dialog>
  );
}

function DeletePasskeyDialog(props: {
  passkey: Passkey | null;
  onClose: () => void;
  onDone: () => void;
}) {
  const [error, setError] = useState<unknown>(null);
  useEffect(() => setError(null), [props.passkey]);
  const remove = async () => {
    try {
      await api.del(passkeyPath(props.passkey!));
      props.onDone();
    } catch (err) {
      // LAST_CREDENTIAL: the API's own words say why.
      setError(err);
    }
  };
  return (
    <Dialog title="Delete this passkey?" open={props.passkey !== null} onClose={props.onClose}>
      <p>You can no longer sign in with “{props.passkey?.name || "Unnamed passkey"}”.</p>
      <Alert error={error} />
      <div class="actions">
        <Button variant="danger" onClick={remove}>
          Delete
        </Button>
        <Button onClick={props.onClose}>Cancel</Button>
      </div>
    </Dialog>
  );
}

export function PasswordSection() {
  const { user, refresh } = useSession();
  const errors = useFormErrors();
  const [key, setKey] = useState(0);
  const submit = async (event: Event) => {
    const v = formValues(event);
    errors.clear();
    const body: Record<string, string> = { new_password: v.new_password ?? "" };
    if (user.has_password) body.current_password = v.current_password ?? "";
    try {
      await api.post("/v1/auth/password", body);
      toast(
        user.has_password ? "Password changed; your other sessions were ended" : "Password set",
      );
      setKey((k) => k + 1);
      await refresh();
    } catch (error) {
      errors.show(error, ["current_password", "new_password"]);
    }
  };
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
