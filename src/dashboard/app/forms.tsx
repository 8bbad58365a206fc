import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";
import { Alert, Button, CopyButton, Dialog, Field, formValues, useFormErrors } from "./ui.tsx";

// The shapes the dashboard's forms and dialogs repeat: submit with field errors, the
// submit + "Cancel" footer, the confirmation dialog, the shown-once secret, the grace period.

/**
 * A form's submit handler: takes the named values, clears the last errors and runs `action`;
 * what it throws lands on the `known` fields it names, the rest above the form (errors.general).
 */
export function useSubmit(
  known: string[],
  action: (values: Record<string, string>, form: HTMLFormElement) => Promise<void>,
) {
  const errors = useFormErrors();
  const submit = async (event: Event) => {
    // Read before the first await: the event lets go of its target once dispatch ends.
    const form = event.currentTarget as HTMLFormElement;
    const values = formValues(event);
    errors.clear();
    try {
      await action(values, form);
    } catch (error) {
      errors.show(error, known);
    }
  };
  return { errors, submit };
}

/** The footer of a form: the submit button (primary unless said) and "Cancel". */
export function FormActions(props: {
  submit: ComponentChildren;
  variant?: "primary" | "danger";
  disabled?: boolean;
  onCancel: () => void;
}) {
  return (
    <div class="actions">
      <Button variant={props.variant ?? "primary"} type="submit" disabled={props.disabled}>
        {props.submit}
      </Button>
      <Button onClick={props.onCancel}>Cancel</Button>
    </div>
  );
}

/**
 * "Are you sure?" for what cannot be undone: the consequences (children), the API's error if
 * it refuses, and a danger button named `action`. With `confirm`, the button waits until the
 * expected text (a namespace, a slug) is typed into a field with that label.
 */
export function ConfirmDialog(props: {
  title: string;
  open: boolean;
  onClose: () => void;
  action: string;
  onConfirm: () => Promise<void>;
  confirm?: { label: string; expected: string };
  children: ComponentChildren;
}) {
  return (
    <Dialog title={props.title} open={props.open} onClose={props.onClose}>
      <ConfirmForm {...props} />
    </Dialog>
  );
}

/** Mounted only while the dialog is open, so each opening starts without an error or text. */
function ConfirmForm(props: Parameters<typeof ConfirmDialog>[0]) {
  const [error, setError] = useState<unknown>(null);
  const [typed, setTyped] = useState("");
  const submit = async (event: Event) => {
    event.preventDefault();
    try {
      await props.onConfirm();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <form onSubmit={submit}>
      {props.children}
      <Alert error={error} />
      {props.confirm && (
        <Field
          label={props.confirm.label}
          name="confirm"
          value={typed}
          onInput={setTyped}
          autocomplete="off"
        />
      )}
      <FormActions
        submit={props.action}
        variant="danger"
        disabled={props.confirm !== undefined && typed !== props.confirm.expected}
        onCancel={props.onClose}
      />
    </form>
  );
}

/** A secret the server shows once (token, API key, webhook secret): copy it, then Done forgets it. */
export function ShownOnceDialog(props: {
  title: string;
  value: string | null | undefined;
  label: string;
  copyLabel: string;
  warning: ComponentChildren;
  onClose: () => void;
}) {
  return (
    <Dialog title={props.title} open={props.value != null} onClose={props.onClose}>
      <p class="warning">{props.warning}</p>
      <output class="secret" aria-label={props.label}>
        <code>{props.value}</code>
      </output>
      <div class="actions">
        <CopyButton text={props.value ?? ""} label={props.copyLabel} />
        <Button variant="primary" onClick={props.onClose}>
          Done
        </Button>
      </div>
    </Dialog>
  );
}

/** How long the old key or secret keeps working after a roll or a rotation; hours, default 24. */
export function GraceField(props: { error: string | undefined; hint?: string }) {
  return (
    <Field
      label="Grace period (hours)"
      name="grace_hours"
      type="number"
      defaultValue="24"
      hint={props.hint}
      error={props.error}
    />
  );
}

/** The grace field's hours as the API's `grace_seconds`. */
export function graceSeconds(values: Record<string, string>): number {
  return Math.round(Number(values.grace_hours ?? "24") * 3600);
}
