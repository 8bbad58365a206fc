import "./styles.css";
import { type ComponentType, render } from "preact";
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { ApiError, api, whenSignedOut } from "./api.ts";
import {
  AccountPage,
  AgentsPage,
  ClaimPage,
  InboxPage,
  OverviewPage,
  PolicyPage,
  ServicePage,
  ServicesPage,
  SignInPage,
  SignUpPage,
  UsagePage,
  WebhookPage,
} from "./pages/index.ts";
import { interceptLinks, match, navigate, useLocation } from "./router.tsx";
import { SessionContext } from "./session.ts";
import type { User } from "./types.ts";
import { Button, Loading, ToastRegion } from "./ui.tsx";
import { useTitle } from "./views.tsx";

type Params = Record<string, string>;
const ROUTES: [string, ComponentType<{ params: Params }>][] = [
  ["/", InboxPage],
  ["/agents", AgentsPage],
  ["/agents/:claimId", ClaimPage],
  ["/services", ServicesPage],
  ["/services/:serviceId", ServicePage],
  ["/webhooks/:webhookId", WebhookPage],
  ["/policy", PolicyPage],
  ["/account", AccountPage],
  ["/usage", UsagePage],
  ["/overview", OverviewPage],
];

const NAV: [string, string][] = [
  ["/", "Inbox"],
  ["/agents", "Agents"],
  ["/services", "Services"],
  ["/policy", "Policy"],
  ["/usage", "Usage"],
  ["/overview", "Overview"],
  ["/account", "Account"],
];

function section(path: string): string {
  if (path.startsWith("/webhooks/")) return "/services";
  const first = `/${path.split("/")[1] ?? ""}`;
  return NAV.some(([href]) => href === first) ? first : "/";
}

function Shell(props: {
  user: User;
  path: string;
  signOut: () => void;
  children: preact.ComponentChildren;
}) {
  const current = section(props.path);
  // After a client-side navigation, focus moves to the new page (as a page load would).
  const first = useRef(true);
  useEffect(() => {
    if (first.current) first.current = false;
    else document.getElementById("main")?.focus({ preventScroll: true });
  }, [props.path]);
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="topbar">
        <a class="brand" href="/">
          Sigilum
        </a>
        <nav aria-label="Main">
          <ul>
            {NAV.map(([href, label]) => (
              <li key={href}>
                <a href={href} aria-current={current === href ? "page" : undefined}>
                  {label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <span class="who">{props.user.namespace}</span>
        <a class="docs-link" href="/docs">
          API reference
        </a>
        <Button onClick={props.signOut}>Sign out</Button>
      </header>
      <main id="main" tabIndex={-1}>
        {props.children}
      </main>
    </>
  );
}

function NotFound() {
  useTitle("Not found");
  return (
    <>
      <h1>Page not found</h1>
      <p>
        There is no page at this address. <a href="/">Go to the inbox</a>.
      </p>
    </>
  );
}

function App() {
  const { path } = useLocation();
  const [user, setUser] = useState<User | null | undefined>(undefined);
  const refresh = useCallback(async () => {
    try {
      setUser((await api.get<{ user: User }>("/v1/auth/me")).user);
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) setUser(null);
      else throw error;
    }
  }, []);
  useEffect(() => {
    whenSignedOut(() => setUser(null));
    void refresh();
  }, [refresh]);
  const publicPage = path === "/signin" || path === "/signup";
  useEffect(() => {
    if (user === null && !publicPage) navigate("/signin", true);
    if (user && publicPage) navigate("/", true);
  }, [user, publicPage]);
  const signedIn = async (next: User) => {
    setUser(next);
    navigate("/", true);
  };
  const signOut = async () => {
    try {
      await api.post("/v1/auth/logout");
    } finally {
      setUser(null);
      navigate("/signin");
    }
  };
  if (user === undefined)
    return (
      <main id="main">
        <Loading />
      </main>
    );
  if (!user) {
    if (path === "/signup")
      return (
        <main id="main">
          <SignUpPage onSignedIn={signedIn} />
        </main>
      );
    return (
      <main id="main">
        <SignInPage onSignedIn={signedIn} />
      </main>
    );
  }
  if (publicPage) return <Loading />;
  let page = <NotFound />;
  for (const [pattern, Page] of ROUTES) {
    const params = match(pattern, path);
    if (params) {
      page = <Page key={path} params={params} />;
      break;
    }
  }
  return (
    <SessionContext.Provider value={{ user, refresh, signOut }}>
      <Shell user={user} path={path} signOut={signOut}>
        {page}
      </Shell>
    </SessionContext.Provider>
  );
}

interceptLinks();
const root = document.getElementById("app")!;
root.textContent = "";
render(
  <>
    <App />
    <ToastRegion />
  </>,
  root,
);
