import { createEventCodec, type Event, type Event__Output } from '@mamori/proto';

const codec = createEventCodec();

/**
 * An event as a consumer of the bus sees it: `partial` encoded and decoded again, so every
 * field has its default and `payload` names the oneof member that is set.
 */
export function buildEvent(partial: Event): Event__Output {
  return codec.decode(
    codec.encode({ id: 'e-1', tenant_id: 'city-a', agent_id: 'node-1', ...partial }),
  );
}

/**
 * A GET of `url` on the city portal, as a defender sends a request its WAAS inspected: the
 * verdict is in `labels` (`waas.action`, `waas.enforced`, …).
 */
export function webRequest(
  labels: Record<string, string>,
  url = "/search?q=1'%20or%20'1'='1",
): Event__Output {
  return buildEvent({
    labels,
    workload: {
      container_id: '3f2a9c1b7d4e',
      container_name: 'portal',
      namespace: 'citizens',
      image_repository: 'registry.example.gov/city/portal',
    },
    http_request: {
      method: 'GET',
      url,
      headers: [{ name: 'User-Agent', value: 'Mozilla/5.0' }],
      client_address: '203.0.113.9',
      client_port: 51234,
      server_name: 'portal.example.gov',
      server_port: 443,
      tls: true,
    },
  });
}
