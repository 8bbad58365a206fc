/** Pure IP address and CIDR code, shared by configuration, webhooks' SSRF guard, claims and usage. */
export { type Cidr, cidrContains, parseCidr, parseCidrList } from "./cidr.ts";
export { formatIp, type IpBytes, parseIp } from "./ip.ts";
