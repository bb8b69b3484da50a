import type { EventFilter, Warehouse } from '@mamori/warehouse';
import { createApiDiscovery, headersOf, type HttpRequest } from '@mamori/waas';

/** Requests read at most for one document: enough for the endpoints of an application. */
export const MAX_DISCOVERY_REQUESTS = 20_000;
const PAGE = 1000;

/** What {@link discoverApi} learned from. */
export interface DiscoveredApi {
  /** An OpenAPI 3.0.3 document. */
  document: Record<string, unknown>;
  /** Requests learned from. */
  requests: number;
  /** Requests left out: blocked ones (attacks teach nothing about the API) and other hosts. */
  skipped: number;
  /** Requests not learned because the document reached its endpoint limit. */
  dropped: number;
}

interface HttpPayload {
  method?: string;
  url?: string;
  headers?: { name?: string; value?: string }[];
  body?: string;
  server_name?: string;
}

/** The request a stored http_request event holds, as the inspector and discovery take it. */
export function requestOfPayload(payload: HttpPayload): HttpRequest | undefined {
  if (typeof payload.method !== 'string' || typeof payload.url !== 'string') return undefined;
  const headers = headersOf(
    (payload.headers ?? []).flatMap(({ name, value }) =>
      typeof name === 'string' && typeof value === 'string' ? [[name, value] as const] : [],
    ),
  );
  return {
    method: payload.method,
    url: payload.url,
    headers,
    ...(payload.body ? { body: payload.body, bodyEncoding: 'base64' as const } : {}),
  };
}

/**
 * API discovery over the tenant's recorded web traffic: the newest http_request events (the
 * defenders' samples of clean requests and the requests they reported), blocked ones left out,
 * of one host when given, learned into an OpenAPI document.
 */
export async function discoverApi(
  warehouse: Pick<Warehouse, 'listEvents'>,
  tenantId: string,
  options: { host?: string; fromMicros?: number; limit: number; title?: string },
): Promise<DiscoveredApi> {
  const host = options.host?.toLowerCase();
  const discovery = createApiDiscovery({
    title: options.title ?? (host ? `Discovered API of ${host}` : 'Discovered API'),
  });
  const filter: EventFilter = {
    kinds: ['http_request'],
    ...(options.fromMicros !== undefined ? { fromMicros: options.fromMicros } : {}),
  };
  let requests = 0;
  let skipped = 0;
  let read = 0;
  let cursor: string | undefined;
  while (read < options.limit) {
    const page = await warehouse.listEvents(tenantId, filter, {
      limit: Math.min(PAGE, options.limit - read),
      ...(cursor !== undefined ? { cursor } : {}),
    });
    for (const event of page.items) {
      read++;
      const payload = event.payload as HttpPayload;
      const request = requestOfPayload(payload);
      const sameHost = host === undefined || (payload.server_name ?? '').toLowerCase() === host;
      if (request === undefined || !sameHost || event.labels['waas.action'] === 'block') {
        skipped++;
        continue;
      }
      discovery.observe(request);
      requests++;
    }
    if (page.nextCursor === undefined || page.items.length === 0) break;
    cursor = page.nextCursor;
  }
  return { document: discovery.toOpenApi(), requests, skipped, dropped: discovery.dropped };
}
