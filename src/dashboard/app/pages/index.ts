// The dashboard's pages, one module per area (dashboard.md §2).
export { AccountPage } from "./account.tsx";
export { AgentsPage, ClaimPage } from "./agents.tsx";
export { InboxPage } from "./inbox.tsx";
export { OverviewPage } from "./overview.tsx";
export { PolicyPage } from "./policy.tsx";
export { ServicePage } from "./service.tsx";
export { ServicesPage } from "./services.tsx";
export { SignInPage, SignUpPage } from "./signin.tsx";
export { UsagePage } from "./usage.tsx";
export { WebhookPage } from "./webhook.tsx";
