import type { ComponentChildren, JSX } from "preact";
import { useEffect, useState } from "preact/hooks";
import type { Pagination as Page } from "./api.ts";
import { Alert, type Async, Empty, Loading, Pagination, useAsync } from "./ui.tsx";

// The shapes every page repeats: lists that load, page and may be empty; tables with a header
// row; fact lists; a page's title; a detail page still loading.

/** Sets the document title to "<name> — Sigilum" once. */
export function useTitle(name: string) {
  useEffect(() => {
    document.title = `${name} — Sigilum`;
  }, []);
}

export interface Paged<T> extends Async<T> {
  setOffset: (offset: number) => void;
  /** A filter's setter that also goes back to the first page (a new filter, a new list). */
  filter: (set: (value: string) => void) => (value: string) => void;
}

/** `useAsync` over one page of a list; the offset is part of the state. */
export function usePaged<T>(load: (offset: number) => Promise<T>, deps: unknown[]): Paged<T> {
  const [offset, setOffset] = useState(0);
  const list = useAsync(() => load(offset), [...deps, offset]);
  return {
    ...list,
    setOffset,
    filter: (set) => (value) => {
      set(value);
      setOffset(0);
    },
  };
}

/**
 * The error, then "Loading…", the empty message or the items, then the pager. `empty` left out:
 * the list is never empty (the current session is always one).
 */
export function ListView<T extends { pagination?: Page | undefined }, I>(props: {
  list: Paged<T>;
  items: (data: T) => I[];
  empty?: ComponentChildren;
  error?: unknown;
  children: (items: I[]) => JSX.Element;
}) {
  const { list } = props;
  const items = list.data ? props.items(list.data) : [];
  return (
    <>
      <Alert error={props.error ?? list.error} />
      {!list.data ? (
        <Loading />
      ) : items.length === 0 && props.empty !== undefined ? (
        <Empty>{props.empty}</Empty>
      ) : (
        props.children(items)
      )}
      <Pagination page={list.data?.pagination} onOffset={list.setOffset} />
    </>
  );
}

/**
 * A scrollable table (narrow screens scroll sideways instead of squashing) with a header row of
 * `columns`; `actions` adds a last column named "Actions" for screen readers only.
 */
export function Table(props: {
  label: string;
  columns: string[];
  actions?: boolean;
  children: ComponentChildren;
}) {
  return (
    <div class="table-wrap">
      <table aria-label={props.label}>
        <thead>
          <tr>
            {props.columns.map((name) => (
              <th key={name} scope="col">
                {name}
              </th>
            ))}
            {props.actions && (
              <th scope="col">
                <span class="offscreen">Actions</span>
              </th>
            )}
          </tr>
        </thead>
        <tbody>{props.children}</tbody>
      </table>
    </div>
  );
}

/** One term and its value in a `<dl class="facts">`. */
export function Fact(props: { term: string; class?: string; children: ComponentChildren }) {
  return (
    <div>
      <dt>{props.term}</dt>
      <dd class={props.class}>{props.children}</dd>
    </div>
  );
}

/** A detail page before its data is there: its heading, then the error or "Loading…". */
export function Pending(props: { title: string; error: unknown; children?: ComponentChildren }) {
  return (
    <>
      <h1>{props.title}</h1>
      {props.error ? <Alert error={props.error} /> : <Loading />}
      {props.children}
    </>
  );
}
