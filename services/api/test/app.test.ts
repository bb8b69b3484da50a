import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { createLogger, type Readiness } from '@mamori/common';
import { auditServer } from 'graphql-http';
import { Counter, Registry } from 'prom-client';
import { describe, expect, it, vi } from 'vitest';
import { protoType } from '@mamori/proto';
import type { StoredEvent, StoredIncident } from '@mamori/warehouse';
import { createTokenRegistry } from '../src/auth/tokens.js';
import { resolvers, type ApiWarehouse } from '../src/graphql/resolvers.js';
import { gql, testApp, token, tokenActor } from './support/fixtures.js';

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
    listIncidents: vi.fn(() => Promise.resolve({ items: [] })),
    countIncidentsBySeverity: vi.fn(() =>
      Promise.resolve({ info: 0, low: 0, medium: 0, high: 0, critical: 0 }),
    ),
    getIncident: vi.fn(() => Promise.resolve(undefined)),
    setIncidentStatus: vi.fn(() => Promise.resolve(false)),
    listAudit: vi.fn(() => Promise.resolve({ items: [] })),
    recordAudit: vi.fn(() => Promise.resolve()),
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
      expect(warehouse.setAlertStatus).toHaveBeenCalledWith(TENANT, ['a1'], 'resolved', {
        actor: role === 'analyst' ? `analyst@${TENANT}` : tokenActor(token(TENANT, role)),
      });
    },
  );

  const incident: StoredIncident = {
    ...incidentFixture(),
    status: 'suppressed',
    statusChange: { atMicros: 1_764_000_003_000_000, actor: 'analyst@city-a', note: 'lab' },
  };
  const triage = ['acknowledgeIncident', 'resolveIncident', 'suppressIncident', 'reopenIncident'];

  it.each(triage)('refuses %s to a viewer with FORBIDDEN, writing nothing', async (mutation) => {
    const warehouse = emptyWarehouse();
    const result = await gql(
      testApp(warehouse, [TENANT]),
      token(TENANT, 'viewer'),
      `mutation { ${mutation}(id: "inc-1") { id } }`,
    );
    expect(result.body.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
    expect(warehouse.setIncidentStatus).not.toHaveBeenCalled();
  });

  it.each([
    ['acknowledgeIncident', 'acknowledged'],
    ['resolveIncident', 'resolved'],
    ['suppressIncident', 'suppressed'],
    ['reopenIncident', 'open'],
  ])('lets an analyst %s, as the actor of their token, with a note', async (mutation, status) => {
    const warehouse = emptyWarehouse({
      setIncidentStatus: vi.fn(() => Promise.resolve(true)),
      getIncident: vi.fn(() => Promise.resolve({ ...incident, alerts: { items: [] } })),
    });
    const result = await gql(
      testApp(warehouse, [TENANT]),
      token(TENANT, 'analyst'),
      `mutation { ${mutation}(id: "inc-1", note: "lab host") { id status statusChange { by note at } } }`,
    );
    expect(result.body).toEqual({
      data: {
        [mutation]: {
          id: 'inc-1',
          status: 'SUPPRESSED',
          statusChange: { by: 'analyst@city-a', note: 'lab', at: '2025-11-24T16:00:03.000000Z' },
        },
      },
    });
    expect(warehouse.setIncidentStatus).toHaveBeenCalledWith(TENANT, 'inc-1', status, {
      actor: `analyst@${TENANT}`,
      note: 'lab host',
    });
  });

  it('answers NOT_FOUND for an incident the tenant does not have', async () => {
    const warehouse = emptyWarehouse();
    const result = await gql(
      testApp(warehouse, [TENANT]),
      token(TENANT, 'admin'),
      'mutation { resolveIncident(id: "elsewhere") { id } }',
    );
    expect(result.body.errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND', field: 'id' });
    expect(warehouse.setIncidentStatus).toHaveBeenCalledWith(TENANT, 'elsewhere', 'resolved', {
      actor: tokenActor(token(TENANT, 'admin')),
    });
  });

  it('shows a caller the actor their changes are recorded as', async () => {
    const app = testApp(emptyWarehouse(), [TENANT]);
    const named = await gql(app, token(TENANT, 'analyst'), '{ viewer { actor } }');
    expect(named.body.data).toEqual({ viewer: { actor: 'analyst@city-a' } });
    const unnamed = await gql(app, token(TENANT, 'admin'), '{ viewer { actor } }');
    const actor = (unnamed.body.data as { viewer: { actor: string } }).viewer.actor;
    expect(actor).toMatch(/^token:[0-9a-f]{12}$/);
    expect(actor).not.toContain(token(TENANT, 'admin'));
  });
});

describe('API tokens', () => {
  it('names a token by its name, else by a hash of the token, the same for token and tokenSha256', () => {
    const secret = 'a-token-of-at-least-16';
    const sha = tokenActor(secret).slice('token:'.length);
    const registry = createTokenRegistry(
      [
        { token: secret, tenant: 'a', role: 'viewer' },
        { token: 'another-token-of-16+', tenant: 'a', role: 'admin', name: 'Jane Doe (SOC)' },
      ],
      'test',
    );
    expect(registry.identify(secret)?.actor).toBe(`token:${sha}`);
    expect(registry.identify('another-token-of-16+')?.actor).toBe('Jane Doe (SOC)');
    const hashed = createTokenRegistry(
      [
        {
          tokenSha256: createHash('sha256').update(secret).digest('hex').toUpperCase(),
          tenant: 'a',
          role: 'viewer',
        },
      ],
      'test',
    );
    expect(hashed.identify(secret)?.actor).toBe(`token:${sha}`);
  });

  it('refuses a name that could pass for a token id or is not printable, naming the entry', () => {
    expect(() =>
      createTokenRegistry(
        [
          { token: 'x'.repeat(16), tenant: 'a', role: 'viewer', name: 'token:0123456789ab' },
          { token: 'y'.repeat(16), tenant: 'a', role: 'viewer', name: 'tab\there' },
          { token: 'z'.repeat(16), tenant: 'a', role: 'viewer', name: '' },
        ],
        'tokens.json',
      ),
    ).toThrow(
      /tokens\.json\[0\]\.name[\s\S]*tokens\.json\[1\]\.name[\s\S]*tokens\.json\[2\]\.name/,
    );
  });
});

describe('incidents', () => {
  it('passes filters and pages to the warehouse and counts by severity over the filter', async () => {
    const warehouse = emptyWarehouse({
      listIncidents: vi.fn(() => Promise.resolve({ items: [incidentFixture()] })),
      countIncidentsBySeverity: vi.fn(() =>
        Promise.resolve({ info: 0, low: 0, medium: 0, high: 2, critical: 1 }),
      ),
    });
    const result = await gql(
      testApp(warehouse, [TENANT]),
      token(TENANT, 'viewer'),
      `{ incidents(first: 10, filter: { severities: [HIGH], statuses: [OPEN, SUPPRESSED], namespace: "citizens", ruleIds: ["miner"], from: "2025-11-24T16:00:00Z" }) {
        edges { node { id severity alertCount windowStart windowEnd workload { kind key } status statusChange { by } } }
        countsBySeverity { high critical total } } }`,
    );
    expect(result.body).toEqual({
      data: {
        incidents: {
          edges: [
            {
              node: {
                id: 'inc-1',
                severity: 'HIGH',
                alertCount: 3,
                windowStart: '2025-11-24T16:00:00.000000Z',
                windowEnd: '2025-11-24T17:00:00.000000Z',
                workload: { kind: 'POD', key: 'citizens/portal-7d9f' },
                status: 'OPEN',
                statusChange: null,
              },
            },
          ],
          countsBySeverity: { high: 2, critical: 1, total: 3 },
        },
      },
    });
    const filter = {
      severities: ['high'],
      statuses: ['open', 'suppressed'],
      namespace: 'citizens',
      ruleIds: ['miner'],
      fromMicros: 1_764_000_000_000_000,
    };
    expect(warehouse.listIncidents).toHaveBeenCalledWith(TENANT, filter, { limit: 10 });
    expect(warehouse.countIncidentsBySeverity).toHaveBeenCalledWith(TENANT, filter);
  });

  it('keeps nested incident alerts within the cost limit', async () => {
    const warehouse = emptyWarehouse();
    const app = testApp(warehouse, [TENANT], { limits: { maxComplexity: 1000 } });
    const nested = await gql(
      app,
      token(TENANT, 'viewer'),
      '{ incidents(first: 20) { edges { node { id alerts(first: 50) { edges { node { id } } } } } } }',
    );
    expect(nested.body.errors?.[0]?.extensions?.['code']).toBe('COMPLEXITY_LIMIT');
    // Without first, both connections count as the default page of 50.
    const defaults = await gql(
      app,
      token(TENANT, 'viewer'),
      '{ incidents { edges { node { alerts { edges { node { id } } } } } } }',
    );
    expect(defaults.body.errors?.[0]?.extensions?.['code']).toBe('COMPLEXITY_LIMIT');
    const audit = await gql(
      app,
      token(TENANT, 'viewer'),
      '{ auditTrail(targetType: INCIDENT, targetId: "i", first: 200) { edges { node { actor note at action targetId } } } }',
    );
    expect(audit.body.errors?.[0]?.extensions?.['code']).toBe('COMPLEXITY_LIMIT');
    expect(warehouse.listIncidents).not.toHaveBeenCalled();
    expect(warehouse.listAudit).not.toHaveBeenCalled();
  });

  it('rejects an incident query deeper than the limit with DEPTH_LIMIT', async () => {
    const app = testApp(emptyWarehouse(), [TENANT], { limits: { maxDepth: 4 } });
    const result = await gql(
      app,
      token(TENANT, 'viewer'),
      '{ incident(id: "i") { alerts { edges { node { id } } } } }',
    );
    expect(result.body.errors?.[0]?.extensions?.['code']).toBe('DEPTH_LIMIT');
  });
});

/** An incident as the warehouse returns it, untriaged. */
function incidentFixture(): StoredIncident {
  return {
    id: 'inc-1',
    ruleId: 'miner',
    ruleName: 'Miner',
    workload: {
      kind: 'pod',
      key: 'citizens/portal-7d9f',
      namespace: 'citizens',
      podName: 'portal-7d9f',
      containerId: 'c0ffee01',
      hostname: 'node-1',
    },
    windowStartUnixMicros: 1_764_000_000_000_000,
    severity: 'high',
    title: 'xmrig ran',
    alertCount: 3,
    firstSeenUnixMicros: 1_764_000_001_000_000,
    lastSeenUnixMicros: 1_764_000_002_000_000,
    status: 'open',
  };
}

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

  it("bounds the body by the caller's role, before reading it, chunked or not", async () => {
    const app = testApp(emptyWarehouse(), [TENANT], {
      limits: { maxBodyBytes: 1024, maxAdminBodyBytes: 8192 },
    });
    const post = (bearer: string | undefined, bytes: number, chunked = false) => {
      const body = JSON.stringify({ query: `{ viewer { tenant } } # ${'x'.repeat(bytes)}` });
      return app.server.inject({
        method: 'POST',
        url: '/graphql',
        headers: {
          'content-type': 'application/json',
          ...(bearer === undefined ? {} : { authorization: `Bearer ${bearer}` }),
        },
        // A stream is sent chunked, without a Content-Length.
        payload: chunked ? Readable.from([Buffer.from(body)]) : body,
      });
    };
    const admin = token(TENANT, 'admin');
    const analyst = token(TENANT, 'analyst');
    expect((await post(admin, 4000)).statusCode).toBe(200);
    expect((await post(admin, 4000, true)).statusCode).toBe(200);
    const overAdmin = await post(admin, 9000);
    expect(overAdmin.statusCode).toBe(413);
    expect(overAdmin.json()).toMatchObject({
      message: 'the request body is larger than 8192 bytes',
    });
    expect((await post(admin, 9000, true)).statusCode).toBe(413);
    expect((await post(analyst, 4000)).statusCode).toBe(413);
    expect((await post(analyst, 4000, true)).statusCode).toBe(413);
    expect((await post(analyst, 500)).statusCode).toBe(200);
    // Who may send how much is settled before the body: no token is 401, whatever its size.
    expect((await post(undefined, 9000)).statusCode).toBe(401);
    expect((await post('y'.repeat(32), 9000)).statusCode).toBe(401);
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
