import { type ApiClient, signUp, type TestServer, uniqueName } from "./server.ts";
import type { ApiKeyCreated, Service } from "./types.ts";

export interface ServiceSetup {
  client: ApiClient;
  namespace: string;
  serviceId: string;
  slug: string;
  apiKey: string;
}

/** An owner with one service and one API key. */
export async function ownerWithKey(t: TestServer, namespace?: string): Promise<ServiceSetup> {
  const { client, namespace: ns } = await signUp(t, namespace);
  const slug = uniqueName("svc");
  const service = await client.post<Service>("/v1/services", { slug, name: "Service" });
  if (service.status !== 201)
    throw new Error(`service: ${service.status} ${JSON.stringify(service.body)}`);
  const key = await client.post<ApiKeyCreated>(`/v1/services/${service.body.id}/keys`);
  if (key.status !== 201) throw new Error(`key: ${key.status} ${JSON.stringify(key.body)}`);
  return { client, namespace: ns, serviceId: service.body.id, slug, apiKey: key.body.key };
}
