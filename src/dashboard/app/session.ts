import { createContext } from "preact";
import { useContext } from "preact/hooks";
import type { User } from "./types.ts";

export interface SessionState {
  user: User;
  /** Reloads the signed-in user (after a passkey or password change). */
  refresh: () => Promise<void>;
  signOut: () => Promise<void>;
}

export const SessionContext = createContext<SessionState | null>(null);

export function useSession(): SessionState {
  const session = useContext(SessionContext);
  if (!session) throw new Error("useSession outside a signed-in page");
  return session;
}
