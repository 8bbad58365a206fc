import type { ComponentChildren, JSX } from "preact";
import { useCallback, useEffect, useId, useRef, useState } from "preact/hooks";
import { ApiError, messageOf, type Pagination as Page } from "./api.ts";

// The one small component library of the dashboard (dashboard.md §1).

type ButtonProps = JSX.HTMLAttributes<HTMLButtonElement> & {
  variant?: "primary" | "danger" | "plain";
  type?: "button" | "submit";
  disabled?: boolean;
  value?: string;
};

export function Button({ variant = "plain", type = "button", class: cls, ...rest }: ButtonProps) {
  return <button type={type} class={`btn btn-${variant}${cls ? ` ${cls}` : ""}`} {...rest} />;
}

interface FieldProps {
  label: string;
  name: string;
  type?: string;
  error?: string | undefined;
  hint?: string;
  required?: boolean;
  value?: string;
  defaultValue?: string;
  autocomplete?: string;
  placeholder?: string;
  multiline?: boolean;
  options?: { value: string; label: string }[];
  onInput?: (value: string) => void;
  minLength?: number;
  maxLength?: number;
}

/** A visible <label>, the control, and an error slot wired through aria-describedby. */
export function Field(props: FieldProps) {
  const id = useId();
  const errorId = `${id}-error`;
  const hintId = `${id}-hint`;
  const described = [props.hint ? hintId : "", props.error ? errorId : ""]
    .filter(Boolean)
    .join(" ");
  const common = {
    id,
    name: props.name,
    required: props.required,
    "aria-invalid": props.error ? ("true" as const) : undefined,
    "aria-describedby": described || undefined,
    onInput: props.onInput
      ? (e: Event) => props.onInput!((e.currentTarget as HTMLInputElement).value)
      : undefined,
  };
  const valueProps =
    props.value !== undefined ? { value: props.value } : { defaultValue: props.defaultValue };
  let control: JSX.Element;
  if (props.options)
    control = (
      <select {...common} {...valueProps}>
        {props.options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
    );
  else if (props.multiline)
    control = <textarea {...common} {...valueProps} maxLength={props.maxLength} rows={3} />;
  else
    control = (
      <input
        {...common}
        {...valueProps}
        type={props.type ?? "text"}
        autocomplete={props.autocomplete}
        placeholder={props.placeholder}
        minLength={props.minLength}
        maxLength={props.maxLength}
      />
    );
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      {control}
      {props.hint && (
        <p class="hint" id={hintId}>
          {props.hint}
        </p>
      )}
      {props.error && (
        <p class="field-error" id={errorId} role="alert">
          {props.error}
        </p>
      )}
    </div>
  );
}

/**
 * A modal <dialog> with a heading; closing (Escape, Cancel) calls onClose. The element stays
 * mounted so that close() runs and the browser returns focus to what opened it.
 */
export function Dialog(props: {
  title: string;
  open: boolean;
  onClose: () => void;
  children: ComponentChildren;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (props.open && !dialog.open) dialog.showModal();
    if (!props.open && dialog.open) dialog.close();
  }, [props.open]);
  return (
    <dialog
      ref={ref}
      aria-labelledby={props.open ? titleId : undefined}
      onClose={() => {
        if (props.open) props.onClose();
      }}
      onCancel={(e) => {
        e.preventDefault();
        props.onClose();
      }}
    >
      {props.open && (
        <>
          <h2 id={titleId}>{props.title}</h2>
          {props.children}
        </>
      )}
    </dialog>
  );
}

let toastListener: ((message: string) => void) | null = null;
export function toast(message: string) {
  toastListener?.(message);
}

/** The polite live region every page announces outcomes through. */
export function ToastRegion() {
  const [messages, setMessages] = useState<{ id: number; text: string }[]>([]);
  useEffect(() => {
    let next = 0;
    toastListener = (text) => {
      const id = ++next;
      setMessages((all) => [...all.slice(-2), { id, text }]);
      setTimeout(() => setMessages((all) => all.filter((m) => m.id !== id)), 5000);
    };
    return () => {
      toastListener = null;
    };
  }, []);
  return (
    <div class="toasts" role="status" aria-live="polite">
      {messages.map((m) => (
        <p key={m.id} class="toast">
          {m.text}
        </p>
      ))}
    </div>
  );
}

async function copyText(text: string): Promise<void> {
  if (navigator.clipboard?.writeText) {
    try {
      await navigator.clipboard.writeText(text);
      return;
    } catch {
      // Fall through: clipboard permission denied (e.g. an insecure context).
    }
  }
  const area = document.createElement("textarea");
  area.value = text;
  area.setAttribute("readonly", "");
  area.className = "offscreen";
  document.body.append(area);
  area.select();
  document.execCommand("copy");
  area.remove();
}

export function CopyButton(props: { text: string; label: string }) {
  return (
    <Button
      class="btn-small"
      onClick={async () => {
        await copyText(props.text);
        toast("Copied to the clipboard");
      }}
    >
      {props.label}
    </Button>
  );
}

export function Pagination(props: { page: Page | undefined; onOffset: (offset: number) => void }) {
  const page = props.page;
  if (!page || (page.offset === 0 && !page.has_more)) return null;
  const last = Math.min(page.offset + page.limit, page.total);
  return (
    <nav class="pagination" aria-label="Pagination">
      <Button
        disabled={page.offset === 0}
        onClick={() => props.onOffset(Math.max(0, page.offset - page.limit))}
      >
        Previous
      </Button>
      <span>
        {page.total === 0 ? 0 : page.offset + 1}–{last} of {page.total}
      </span>
      <Button disabled={!page.has_more} onClick={() => props.onOffset(page.offset + page.limit)}>
        Next
      </Button>
    </nav>
  );
}

export function Empty(props: { children: ComponentChildren }) {
  return <p class="empty">{props.children}</p>;
}

export function Alert(props: { error: unknown }) {
  if (!props.error) return null;
  return (
    <p class="alert" role="alert">
      {messageOf(props.error)}
    </p>
  );
}

export function Loading() {
  return <p class="loading">Loading…</p>;
}

/**
 * Text from elsewhere (payloads, response excerpts) that may scroll: named, and focusable so a
 * keyboard user can scroll it (axe: scrollable-region-focusable).
 */
export function ScrollText(props: { label: string; children: string }) {
  return (
    // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling region must be reachable from the keyboard (WCAG 2.1.1)
    <section class="excerpt" aria-label={props.label} tabIndex={0}>
      {props.children}
    </section>
  );
}

export interface Async<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => Promise<void>;
  setData: (update: (old: T | undefined) => T | undefined) => void;
}

/** Loads `load()` whenever deps change; `reload()` fetches again. */
export function useAsync<T>(load: () => Promise<T>, deps: unknown[]): Async<T> {
  const [state, setState] = useState<{ data?: T; error?: unknown; loading: boolean }>({
    loading: true,
  });
  const seq = useRef(0);
  const reload = useCallback(async () => {
    const mine = ++seq.current;
    setState((s) => ({ ...s, loading: true }));
    try {
      const data = await load();
      if (mine === seq.current) setState({ data, loading: false });
    } catch (error) {
      if (mine === seq.current) setState((s) => ({ ...s, error, loading: false }));
    }
  }, deps);
  useEffect(() => {
    void reload();
  }, [reload]);
  return {
    data: state.data,
    error: state.error,
    loading: state.loading,
    reload,
    setData: (update) => setState((s) => ({ ...s, data: update(s.data) })),
  };
}

/** Field errors from an API error's details, plus the message no field claims. */
export function useFormErrors() {
  const [fields, setFields] = useState<Record<string, string>>({});
  const [general, setGeneral] = useState<string | null>(null);
  return {
    fields,
    general,
    clear() {
      setFields({});
      setGeneral(null);
    },
    show(error: unknown, known: string[] = []) {
      const next: Record<string, string> = {};
      let unclaimed = messageOf(error);
      if (error instanceof ApiError && error.details.length > 0) {
        const left: string[] = [];
        for (const d of error.details) {
          const field = d.field.split(".")[0]!;
          if (known.includes(field)) next[field] = d.message;
          else left.push(`${d.field} ${d.message}`);
        }
        unclaimed = left.length > 0 ? `${error.message}: ${left.join("; ")}` : "";
      } else if (error instanceof ApiError && known.length > 0) {
        const field = fieldOfCode(error.code, known);
        if (field) {
          next[field] = error.message;
          unclaimed = "";
        }
      }
      setFields(next);
      setGeneral(unclaimed || null);
    },
  };
}

/** Error codes that concern one field even without details. */
function fieldOfCode(code: string, known: string[]): string | undefined {
  const byCode: Record<string, string> = {
    NAMESPACE_TAKEN: "namespace",
    EMAIL_TAKEN: "email",
    SLUG_TAKEN: "slug",
    INVALID_WEBHOOK_URL: "url",
    INVALID_CREDENTIALS: "password",
  };
  const field = byCode[code];
  return field && known.includes(field) ? field : undefined;
}

export function FormError(props: { message: string | null }) {
  if (!props.message) return null;
  return (
    <p class="alert" role="alert">
      {props.message}
    </p>
  );
}

/** The named values of a submitted form. */
export function formValues(event: Event): Record<string, string> {
  event.preventDefault();
  const data = new FormData(event.currentTarget as HTMLFormElement);
  const out: Record<string, string> = {};
  for (const [key, value] of data) if (typeof value === "string") out[key] = value;
  return out;
}

export function formatTime(iso: string | null | undefined): string {
  if (!iso) return "—";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}

export function ago(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return "—";
  const seconds = Math.max(0, Math.round((now - new Date(iso).getTime()) / 1000));
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ago`;
  return `${Math.floor(seconds / 86400)} d ago`;
}

export function Time(props: { at: string | null | undefined }) {
  if (!props.at) return <span>—</span>;
  return (
    <time dateTime={props.at} title={formatTime(props.at)}>
      {formatTime(props.at)}
    </time>
  );
}
