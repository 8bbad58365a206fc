import { useEffect, useRef } from "preact/hooks";
import { apiPath } from "./ids.ts";
import type { Claim } from "./types.ts";

/**
 * Follows `GET /v1/namespaces/{ns}/events` (dashboard.md §3): `onClaim` for every `claim`
 * event, `onResync` after a reconnect (the stream resumes by Last-Event-ID; the refetch also
 * covers a server that cannot). When the stream is unavailable, polls every 1.5 s instead (new requests within 2 s).
 */
export function useClaimEvents(
  namespace: string,
  onClaim: (claim: Claim) => void,
  onResync: () => void,
) {
  const handlers = useRef({ onClaim, onResync });
  handlers.current = { onClaim, onResync };
  useEffect(() => {
    let source: EventSource | null = null;
    let poll: ReturnType<typeof setInterval> | null = null;
    let hadError = false;
    const startPolling = () => {
      poll ??= setInterval(() => handlers.current.onResync(), 1500);
    };
    try {
      source = new EventSource(apiPath("/v1/namespaces/{namespace}/events", { namespace }));
    } catch {
      startPolling();
      return () => clearInterval(poll!);
    }
    source.addEventListener("claim", (event) => {
      try {
        handlers.current.onClaim(JSON.parse((event as MessageEvent).data) as Claim);
      } catch {
        // A malformed event is skipped; the next resync corrects the list.
      }
    });
    source.addEventListener("open", () => {
      if (hadError) handlers.current.onResync();
      hadError = false;
    });
    source.addEventListener("error", () => {
      hadError = true;
      // CLOSED: the browser gave up (no stream route, 429, signed out): fall back to polling.
      if (source?.readyState === EventSource.CLOSED) startPolling();
    });
    return () => {
      source?.close();
      if (poll) clearInterval(poll);
    };
  }, [namespace]);
}
