import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError, api } from "../api.ts";
import {
  autofillAvailable,
  cancelCeremony,
  ceremonyMessage,
  passkeySignIn,
  passkeySignUp,
} from "../passkeys.ts";
import type { User } from "../types.ts";
import { Button, Field, FormError, formValues, useFormErrors } from "../ui.tsx";

interface Props {
  onSignedIn: (user: User) => void;
}

export function SignInPage({ onSignedIn }: Props) {
  const errors = useFormErrors();
  const [passkeyError, setPasskeyError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const done = useRef(onSignedIn);
  done.current = onSignedIn;
  useEffect(() => {
    document.title = "Sign in — Sigilum";
    let active = true;
    // Browser autofill: the login field offers saved passkeys (conditional mediation).
    void (async () => {
      if (!(await autofillAvailable()) || !active) return;
      try {
        const user = await passkeySignIn(true);
        if (active) done.current(user);
      } catch {
        // Cancelled by the explicit button or by leaving the page; nothing to report.
      }
    })();
    return () => {
      active = false;
      cancelCeremony();
    };
  }, []);

  const withPasskey = async () => {
    setPasskeyError(null);
    setBusy(true);
    try {
      onSignedIn(await passkeySignIn(false));
    } catch (error) {
      setPasskeyError(error instanceof ApiError ? error.message : ceremonyMessage(error));
    } finally {
      setBusy(false);
    }
  };

  const withPassword = async (event: Event) => {
    const { login, password } = formValues(event);
    errors.clear();
    setBusy(true);
    try {
      const { user } = await api.post<{ user: User }>("/v1/auth/login", { login, password });
      onSignedIn(user);
    } catch (error) {
      errors.show(error, ["login", "password"]);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="auth">
      <h1>Sign in</h1>
      <section class="card">
        <h2 id="passkey-heading">With a passkey</h2>
        <p>Use the passkey saved on this device or your phone — no password needed.</p>
        <Button variant="primary" onClick={withPasskey} disabled={busy}>
          Sign in with a passkey
        </Button>
        <FormError message={passkeyError} />
      </section>
      <form class="card" onSubmit={withPassword} noValidate>
        <h2 id="password-heading">With a password</h2>
        <FormError message={errors.general} />
        <Field
          label="Email or namespace"
          name="login"
          autocomplete="username webauthn"
          required
          error={errors.fields.login}
        />
        <Field
          label="Password"
          name="password"
          type="password"
          autocomplete="current-password"
          required
          error={errors.fields.password}
        />
        <Button variant="primary" type="submit" disabled={busy}>
          Sign in with password
        </Button>
      </form>
      <p>
        No account yet? <a href="/signup">Create an account</a>
      </p>
    </div>
  );
}

const SIGNUP_FIELDS = ["namespace", "email", "password"];

/** Enter in the password field signs up with the password, not the form's first button. */
function enterInPassword(event: KeyboardEvent) {
  const target = event.target as HTMLInputElement;
  if (event.key !== "Enter" || target.name !== "password") return;
  event.preventDefault();
  const form = event.currentTarget as HTMLFormElement;
  form.requestSubmit(form.querySelector<HTMLButtonElement>('button[value="password"]'));
}

export function SignUpPage({ onSignedIn }: Props) {
  const errors = useFormErrors();
  const [closed, setClosed] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    document.title = "Create an account — Sigilum";
    // Say up front when accounts are made by the operator, not after the visitor fills the form.
    api
      .get<{ signup: "open" | "closed" }>("/v1/auth/signup")
      .then(({ signup }) => {
        if (signup === "closed") setClosed("");
      })
      .catch(() => {}); // the form still works; a refused attempt says the same
  }, []);

  const fail = (error: unknown) => {
    if (error instanceof ApiError && error.code === "SIGNUP_DISABLED") setClosed(error.message);
    else if (error instanceof ApiError) errors.show(error, SIGNUP_FIELDS);
    else errors.show(new Error(ceremonyMessage(error)));
  };

  const submit = async (event: Event) => {
    const submitter = (event as SubmitEvent).submitter as HTMLButtonElement | null;
    const values = formValues(event);
    const namespace = (values.namespace ?? "").trim().toLowerCase();
    const email = (values.email ?? "").trim();
    errors.clear();
    setBusy(true);
    try {
      if (submitter?.value === "password") {
        const { user } = await api.post<{ user: User }>("/v1/auth/signup", {
          namespace,
          email,
          password: values.password ?? "",
        });
        onSignedIn(user);
      } else onSignedIn(await passkeySignUp(namespace, email));
    } catch (error) {
      fail(error);
    } finally {
      setBusy(false);
    }
  };

  if (closed !== null)
    return (
      <div class="auth">
        <h1>Create an account</h1>
        <div class="card" role="alert">
          <p>Sign-up is closed on this server. {closed}</p>
          <p>
            Accounts are made by the operator with{" "}
            <code>sigilum owner create &lt;namespace&gt; --email &lt;email&gt;</code>.
          </p>
        </div>
        <p>
          <a href="/signin">Sign in instead</a>
        </p>
      </div>
    );

  return (
    <div class="auth">
      <h1>Create an account</h1>
      <form class="card" onSubmit={submit} onKeyDown={enterInPassword} noValidate>
        <FormError message={errors.general} />
        <Field
          label="Namespace"
          name="namespace"
          autocomplete="username"
          hint="3–64 lower-case letters, digits and hyphens; your agents' DID is did:sigilum:<namespace>."
          required
          error={errors.fields.namespace}
        />
        <Field
          label="Email"
          name="email"
          type="email"
          autocomplete="email"
          required
          error={errors.fields.email}
        />
        <Button variant="primary" type="submit" value="passkey" disabled={busy}>
          Sign up with a passkey
        </Button>
        <details class="disclosure">
          <summary>Use a password instead</summary>
          <Field
            label="Password"
            name="password"
            type="password"
            autocomplete="new-password"
            hint="At least 10 characters."
            error={errors.fields.password}
          />
          <Button type="submit" value="password" disabled={busy}>
            Sign up with password
          </Button>
        </details>
      </form>
      <p>
        Already have an account? <a href="/signin">Sign in instead</a>
      </p>
    </div>
  );
}
