import { createLogger, type Readiness } from '@mamori/common';
import { auditServer } from 'graphql-http';
import { Counter, Registry } from 'prom-client';
import { describe, expect, it, vi } from 'vitest';
import { protoType } from '@mamori/proto';
import type { StoredEvent } from '@mamori/warehouse';
import { resolvers, type ApiWarehouse } from '../src/graphql/resolvers.js';
import { gql, testApp, token } from './support/fixtures.js';

const TENANT = 'city-a';

/** A warehouse with nothing in it; tests replace the methods they exercise. */
function emptyWarehouse(overrides: Partial<ApiWarehouse> = {}): ApiWarehouse {
  return {
    listEvents: vi.fn(() => Promise.resolve({ items: [] })),
    countEvents: vi.fn(() => Promise.resolve([])),
    listAlerts: vi.fn(() => Promise.resolve({ items: [] })),
    countAlertsBySeverity: vi.fn(() =>
      Promise.resolve({ info: 0, low: 0, medium: 0, high: 0, critical: 0 }),
    ),
    setAlertStatus: vi.fn(() => Promise.resolve()),
    listAgents: vi.fn(() => Promise.resolve({ items: [] })),
    listWorkloads: vi.fn(() => Promise.resolve({ items: [] })),
    ...overrides,
  };
}

describe('authentication', () => {
  it('answers 401 with UNAUTHENTICATED when no token is presented', async () => {
    const app = testApp(emptyWarehouse(), [TENANT]);
    const result = await gql(app, undefined, '{ viewer { tenant } }');
    expect(result.status).toBe(401);
    expect(result.response.headers['www-authenticate']).toBe('Bearer');
    expect(result.body.errors?.[0]?.extensions?.['code']).toBe('UNAUTHENTICATED');
    expect(result.body.data).toBeUndefined();
  });

  it('answers 401 to an unknown token and never reaches the warehouse', async () => {
    const warehouse = emptyWarehouse();
    const app = testApp(warehouse, [TENANT]);
    const result = await gql(app, 'x'.repeat(32), '{ events { edges { cursor } } }');
    expect(result.status).toBe(401);
    expect(result.body.errors?.[0]?.extensions?.['code']).toBe('UNAUTHENTICATED');
    expect(warehouse.listEvents).not.toHaveBeenCalled();
  });

  it('takes the tenant and role from the token', async () => {
    const app = testApp(emptyWarehouse(), [TENANT, 'city-b']);
    const result = await gql(app, token('city-b', 'analyst'), '{ viewer { tenant role } }');
    expect(result.body).toEqual({ data: { viewer: { tenant: 'city-b', role: 'ANALYST' } } });
  });

  it('serves GraphiQL to a browser at /graphql without a token', async () => {
    const app = testApp(emptyWarehouse(), [TENANT]);
    const response = await app.server.inject({
      method: 'GET',
      url: '/graphql',
      headers: { accept: 'text/html' },
    });
    expect(response.statusCode).toBe(200);
    expect(response.body).toContain('Mamori API');
  });
});

describe('roles', () => {
  const mutation = 'mutation { setAlertStatus(ids: ["a1"], status: RESOLVED) { ids status } }';

  it('refuses setAlertStatus to a viewer with FORBIDDEN', async () => {
    const warehouse = emptyWarehouse();
    const result = await gql(testApp(warehouse, [TENANT]), token(TENANT, 'viewer'), mutation);
    expect(result.body.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
    expect(warehouse.setAlertStatus).not.toHaveBeenCalled();
  });

  it.each(['admin', 'analyst'] as const)(
    'lets an %s set alert statuses of their tenant',
    async (role) => {
      const warehouse = emptyWarehouse();
      const result = await gql(testApp(warehouse, [TENANT]), token(TENANT, role), mutation);
      expect(result.body).toEqual({
        data: { setAlertStatus: { ids: ['a1'], status: 'RESOLVED' } },
      });
      expect(warehouse.setAlertStatus).toHaveBeenCalledWith(TENANT, ['a1'], 'resolved');
    },
  );
});

describe('event kinds', () => {
  it('filters by the runtime kinds and shows their kind and payload', async () => {
    const dup: StoredEvent = {
      id: 'e-dup',
      agentId: 'node-1',
      observedUnixMicros: 1_764_000_000_000_000,
      receivedUnixMicros: 1_764_000_000_000_100,
      kind: 'fd_dup',
      hostname: 'node-1.city-a',
      workload: {
        namespace: 'citizens',
        podName: 'portal-7d9f',
        containerId: 'c0ffee01',
        containerName: 'portal',
        imageRepository: 'registry.example.gov/city/portal',
        imageTag: '2.4.1',
        imageDigest: '',
      },
      processName: 'sh',
      pid: 31337,
      commandLine: 'sh',
      path: '',
      labels: {},
      payload: { old_fd: 3, new_fd: 1, fd_type: 'ipv4' },
    };
    const warehouse = emptyWarehouse({
      listEvents: vi.fn(() => Promise.resolve({ items: [dup] })),
    });
    const result = await gql(
      testApp(warehouse, [TENANT]),
      token(TENANT, 'viewer'),
      `{ events(filter: { kinds: [FILE_LINK, FILE_SYMLINK, KERNEL_MODULE_LOAD, PROCESS_PTRACE, NETWORK_SOCKET, FD_DUP] }) {
        edges { node { kind payload } } } }`,
    );
    expect(result.body).toEqual({
      data: {
        events: {
          edges: [{ node: { kind: 'FD_DUP', payload: { old_fd: 3, new_fd: 1, fd_type: 'ipv4' } } }],
        },
      },
    });
    expect(warehouse.listEvents).toHaveBeenCalledWith(
      TENANT,
      {
        kinds: [
          'file_link',
          'file_symlink',
          'kernel_module_load',
          'process_ptrace',
          'network_socket',
          'fd_dup',
        ],
      },
      expect.anything(),
    );
  });

  it('names every payload kind of the event model', () => {
    const names = Object.values(resolvers.EventKind).sort();
    const kinds = protoType('mamori.v1.Event').oneofs['payload']!.fieldsArray.map((f) => f.name);
    expect(names).toEqual([...kinds].sort());
  });
});

describe('limits', () => {
  it('rejects a query deeper than the limit with DEPTH_LIMIT', async () => {
    const warehouse = emptyWarehouse();
    const app = testApp(warehouse, [TENANT], { limits: { maxDepth: 3 } });
    const result = await gql(
      app,
      token(TENANT, 'viewer'),
      '{ workloads { edges { node { containers { hostname } } } } }',
    );
    expect(result.body.errors?.[0]?.extensions?.['code']).toBe('DEPTH_LIMIT');
    expect(warehouse.listWorkloads).not.toHaveBeenCalled();
  });

  it('counts depth through fragments', async () => {
    const app = testApp(emptyWarehouse(), [TENANT], { limits: { maxDepth: 3 } });
    const result = await gql(
      app,
      token(TENANT, 'viewer'),
      'query { ...W } fragment W on Query { workloads { edges { node { hosts } } } }',
    );
    expect(result.body.errors?.[0]?.extensions?.['code']).toBe('DEPTH_LIMIT');
  });

  it('rejects a query costlier than the limit with COMPLEXITY_LIMIT, counting page sizes', async () => {
    const warehouse = emptyWarehouse();
    const app = testApp(warehouse, [TENANT], { limits: { maxComplexity: 1000 } });
    const cheap = await gql(
      app,
      token(TENANT, 'viewer'),
      '{ events(first: 10) { edges { node { id } } } }',
    );
    expect(cheap.body.errors).toBeUndefined();
    const costly = await gql(
      app,
      token(TENANT, 'viewer'),
      '{ events(first: 500) { edges { node { id hostname } } } }',
    );
    expect(costly.body.errors?.[0]?.extensions?.['code']).toBe('COMPLEXITY_LIMIT');
    expect(costly.body.errors?.[0]?.message).toMatch(/cost \d+ exceeds the limit of 1000/);
    expect(warehouse.listEvents).toHaveBeenCalledTimes(1);
  });

  it('counts a page size given as a variable as the largest page', async () => {
    const app = testApp(emptyWarehouse(), [TENANT], { limits: { maxComplexity: 1000 } });
    const result = await gql(
      app,
      token(TENANT, 'viewer'),
      'query ($n: Int) { events(first: $n) { edges { node { id hostname } } } }',
      { n: 1 },
    );
    expect(result.body.errors?.[0]?.extensions?.['code']).toBe('COMPLEXITY_LIMIT');
  });

  it('refuses a page larger than the cap with BAD_USER_INPUT', async () => {
    const warehouse = emptyWarehouse();
    const app = testApp(warehouse, [TENANT]);
    const result = await gql(
      app,
      token(TENANT, 'viewer'),
      '{ agents(first: 501) { edges { cursor } } }',
    );
    expect(result.body.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
    expect(result.body.errors?.[0]?.message).toContain('between 1 and 500');
    expect(warehouse.listAgents).not.toHaveBeenCalled();
  });

  it('refuses a body larger than the limit with 413', async () => {
    const app = testApp(emptyWarehouse(), [TENANT], { limits: { maxBodyBytes: 1024 } });
    const result = await app.server.inject({
      method: 'POST',
      url: '/graphql',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${token(TENANT, 'viewer')}`,
      },
      payload: JSON.stringify({ query: `{ viewer { tenant } } # ${'x'.repeat(2000)}` }),
    });
    expect(result.statusCode).toBe(413);
  });

  it('gives up on a warehouse slower than the query timeout with TIMEOUT', async () => {
    const warehouse = emptyWarehouse({ listAgents: () => new Promise(() => undefined) });
    const app = testApp(warehouse, [TENANT], { limits: { queryTimeoutMs: 50 } });
    const result = await gql(app, token(TENANT, 'viewer'), '{ agents { edges { cursor } } }');
    expect(result.body.errors?.[0]?.extensions?.['code']).toBe('TIMEOUT');
  });
});

describe('errors', () => {
  it('masks an unexpected error as INTERNAL_SERVER_ERROR without its details, and logs it', async () => {
    const lines: string[] = [];
    const logger = createLogger({
      name: 'test',
      level: 'error',
      destination: { write: (line: string) => void lines.push(line) },
    });
    const warehouse = emptyWarehouse({
      listAlerts: () =>
        Promise.reject(new Error('connect ECONNREFUSED clickhouse-7:8123 password=hunter2')),
    });
    const result = await gql(
      testApp(warehouse, [TENANT], { logger }),
      token(TENANT, 'viewer'),
      '{ alerts { edges { cursor } } }',
    );
    const error = result.body.errors?.[0];
    expect(error?.extensions?.['code']).toBe('INTERNAL_SERVER_ERROR');
    expect(JSON.stringify(result.body)).not.toContain('hunter2');
    expect(JSON.stringify(result.body)).not.toContain('ECONNREFUSED');
    expect(lines.join('')).toContain('ECONNREFUSED');
  });

  it('reports a bad cursor as BAD_USER_INPUT naming the argument', async () => {
    const result = await gql(
      testApp(emptyWarehouse(), [TENANT]),
      token(TENANT, 'viewer'),
      '{ events(after: "not-a-cursor") { edges { cursor } } }',
    );
    expect(result.body.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'after',
    });
  });
});

describe('probes and metrics', () => {
  it('is live at /healthz', async () => {
    const response = await testApp(emptyWarehouse(), [TENANT]).server.inject('/healthz');
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: 'live' });
  });

  it('is ready at /readyz only while the warehouse answers', async () => {
    let up = true;
    const app = testApp(emptyWarehouse(), [TENANT], { ping: () => Promise.resolve(up) });
    expect((await app.server.inject('/readyz')).statusCode).toBe(200);
    up = false;
    expect((await app.server.inject('/readyz')).statusCode).toBe(503);
    const failing = testApp(emptyWarehouse(), [TENANT], {
      ping: () => Promise.reject(new Error('down')),
    });
    expect((await failing.server.inject('/readyz')).statusCode).toBe(503);
  });

  it('reflects the colocated services in /readyz and serves their metrics at /metrics', async () => {
    const registry = new Registry();
    const stored = new Counter({
      name: 'mamori_store_records_inserted_total',
      help: 'Records inserted.',
      registers: [registry],
    });
    let store: Readiness = { ready: false, reason: 'store: inserts failing, retrying' };
    const app = testApp(emptyWarehouse(), [TENANT], {
      colocated: { ready: () => store, registries: [registry] },
    });
    const notReady = await app.server.inject('/readyz');
    expect(notReady.statusCode).toBe(503);
    expect(notReady.json()).toEqual({
      status: 'not ready',
      reason: 'store: inserts failing, retrying',
    });
    store = { ready: true };
    expect((await app.server.inject('/readyz')).statusCode).toBe(200);

    stored.inc(3);
    const metrics = (await app.server.inject('/metrics')).body;
    expect(metrics).toContain('mamori_store_records_inserted_total 3');
    expect(metrics).toContain('mamori_api_process_cpu_user_seconds_total');
  });

  it('exposes request counts and latency by operation, and default metrics, at /metrics', async () => {
    const app = testApp(emptyWarehouse(), [TENANT]);
    await gql(app, token(TENANT, 'viewer'), 'query RecentAgents { agents { edges { cursor } } }');
    const response = await app.server.inject('/metrics');
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toContain('text/plain');
    expect(response.body).toMatch(
      /mamori_api_graphql_operations_total\{operation="RecentAgents",type="query",outcome="ok"\} 1/,
    );
    expect(response.body).toContain('mamori_api_graphql_operation_duration_seconds_bucket');
    expect(response.body).toMatch(
      /mamori_api_http_requests_total\{route="\/graphql",method="POST",status="200"\} 1/,
    );
    expect(response.body).toContain('mamori_api_process_cpu_user_seconds_total');
  });
});

describe('GraphQL over HTTP', () => {
  it("passes every MUST of graphql-http's audit", async () => {
    const app = testApp(emptyWarehouse(), [TENANT]);
    const results = await auditServer({
      url: 'http://127.0.0.1/graphql',
      fetchFn: async (input: RequestInfo | URL, init?: RequestInit) => {
        const request = new Request(input, init);
        const headers: Record<string, string> = {
          authorization: `Bearer ${token(TENANT, 'viewer')}`,
        };
        request.headers.forEach((value, key) => {
          headers[key] = value;
        });
        const url = new URL(request.url);
        const response = await app.server.inject({
          method: request.method as 'GET' | 'POST',
          url: url.pathname + url.search,
          headers,
          ...(request.method === 'GET'
            ? {}
            : { payload: Buffer.from(await request.arrayBuffer()) }),
        });
        const responseHeaders = new Headers();
        for (const [key, value] of Object.entries(response.headers)) {
          if (value !== undefined) responseHeaders.set(key, String(value));
        }
        return new Response(
          response.statusCode === 204 ? null : new Uint8Array(response.rawPayload),
          {
            status: response.statusCode,
            headers: responseHeaders,
          },
        );
      },
    });
    const failedMusts = results
      .filter((result) => result.status !== 'ok' && result.name.startsWith('MUST'))
      .map((result) => result.name);
    expect(failedMusts).toEqual([]);
    expect(results.filter((result) => result.name.startsWith('MUST')).length).toBeGreaterThan(10);
  });
});
