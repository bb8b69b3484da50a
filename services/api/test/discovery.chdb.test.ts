import type { Event__Output } from '@mamori/proto';
import type { Warehouse } from '@mamori/warehouse';
import { httpEvent, SECOND, T0 } from '@mamori/warehouse/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiApp } from '../src/app.js';
import { openTestWarehouse, testTenant } from './support/chdb.js';
import { gql, testApp, token } from './support/fixtures.js';

const A = testTenant();
const B = testTenant();
let warehouse: Warehouse;
let drop: () => Promise<void>;
let app: ApiApp;

/** A request the defenders recorded, with the verdict in labels as they write it. */
function web(
  tenant: string,
  at: number,
  request: { method: string; url: string; host?: string; json?: unknown },
  action: 'allow' | 'alert' | 'block' = 'allow',
): Event__Output {
  const body =
    request.json === undefined ? Buffer.alloc(0) : Buffer.from(JSON.stringify(request.json));
  const event = httpEvent({ tenant, at, body });
  const host = request.host ?? 'portal.city-a.example';
  event.labels = { sensor: 'waas', 'waas.action': action };
  event.http_request = {
    ...event.http_request!,
    method: request.method,
    url: request.url,
    server_name: host,
    headers: [
      { name: 'Host', value: host },
      ...(request.json === undefined ? [] : [{ name: 'Content-Type', value: 'application/json' }]),
    ],
  };
  return event;
}

beforeAll(async () => {
  ({ warehouse, drop } = await openTestWarehouse());
  await warehouse.insertEvents([
    ...[3, 14, 159, 2653].map((id, i) =>
      web(A, T0 + i * SECOND, { method: 'GET', url: `/api/residents/${id}?lang=ja` }),
    ),
    web(A, T0 + 5 * SECOND, {
      method: 'POST',
      url: '/api/residents',
      json: { name: '佐藤 花子', ward: 'Kita', age: 37 },
    }),
    web(A, T0 + 6 * SECOND, { method: 'GET', url: "/api/admin/export?table=users'--" }, 'block'),
    web(A, T0 + 7 * SECOND, { method: 'GET', url: '/wiki/Home', host: 'wiki.city-a.example' }),
    web(B, T0 + 8 * SECOND, { method: 'DELETE', url: '/api/secrets/1' }),
  ]);
  app = testApp(warehouse, [A, B]);
});

afterAll(async () => {
  await drop();
});

const DISCOVERED = `query ($host: String, $limit: Int) {
  discoveredApi(host: $host, limit: $limit) { document requests skipped dropped }
}`;

interface Discovered {
  discoveredApi: {
    document: { openapi: string; info: { title: string }; paths: Record<string, object> };
    requests: number;
    skipped: number;
    dropped: number;
  };
}

describe('discoveredApi', () => {
  it("learns the tenant's endpoints from its recorded requests, leaving blocked ones and other hosts out", async () => {
    const result = await gql(app, token(A, 'viewer'), DISCOVERED, {
      host: 'Portal.City-A.example',
    });
    expect(result.body.errors).toBeUndefined();
    const { document, requests, skipped } = (result.body.data as unknown as Discovered)
      .discoveredApi;
    expect(document.openapi).toBe('3.0.3');
    expect(document.info.title).toBe('Discovered API of portal.city-a.example');
    expect(Object.keys(document.paths).sort()).toEqual(['/api/residents', '/api/residents/{id}']);
    expect(Object.keys(document.paths['/api/residents']!)).toEqual(['post']);
    expect({ requests, skipped }).toEqual({ requests: 5, skipped: 2 });
  });

  it("never shows another tenant's traffic, and refuses a limit out of range", async () => {
    const b = await gql(app, token(B, 'viewer'), DISCOVERED, {});
    expect(
      Object.keys((b.body.data as unknown as Discovered).discoveredApi.document.paths),
    ).toEqual(['/api/secrets/{id}']);
    const bad = await gql(app, token(A, 'viewer'), DISCOVERED, { limit: 50_000 });
    expect(bad.body.errors?.[0]).toMatchObject({
      message: 'limit must be 1 to 20000',
      extensions: { code: 'BAD_USER_INPUT' },
    });
  });
});
