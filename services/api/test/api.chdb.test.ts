import type { Warehouse } from '@mamori/warehouse';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiApp } from '../src/app.js';
import { openTestWarehouse, testTenant } from './support/chdb.js';
import { SECOND, T0, gql, testApp, testEvent, token, tokenActor } from './support/fixtures.js';

// One warehouse on chDB for the file, tenants A and B in it; B must never see A's data. C has
// the incidents, so that A's counts stay as they are.
const A = testTenant();
const B = testTenant();
const C = testTenant();
let warehouse: Warehouse;
let drop: () => Promise<void>;
let app: ApiApp;

const iso = (micros: number) => new Date(micros / 1000).toISOString();

beforeAll(async () => {
  ({ warehouse, drop } = await openTestWarehouse());
  await warehouse.insertEvents([
    testEvent({ tenant: A, at: T0, name: 'curl', args: ['curl', 'https://evil.example'] }),
    testEvent({ tenant: A, at: T0 + 1 * SECOND, name: 'bash', hostname: 'node-2.city-a' }),
    testEvent({ tenant: A, at: T0 + 2 * SECOND, path: '/etc/shadow', name: 'cat' }),
    testEvent({ tenant: A, at: T0 + 3 * SECOND, name: 'nc', namespace: 'payments' }),
    testEvent({ tenant: A, at: T0 + 3700 * SECOND, name: 'curl' }),
  ]);
  await warehouse.insertAlerts([
    {
      id: 'alert-1',
      tenantId: A,
      observedUnixMicros: T0 + 2 * SECOND,
      ruleId: 'read-shadow',
      ruleName: 'Read sensitive file',
      severity: 'high',
      title: 'cat read /etc/shadow',
      agentId: 'node-1',
      eventId: 'ev-x',
      namespace: 'citizens',
    },
    {
      id: 'alert-2',
      tenantId: A,
      observedUnixMicros: T0 + 3 * SECOND,
      ruleId: 'netcat',
      ruleName: 'Netcat run',
      severity: 'critical',
      title: 'nc ran',
      agentId: 'node-1',
      eventId: 'ev-y',
    },
  ]);
  await warehouse.upsertAgents([
    {
      tenantId: A,
      agentId: 'node-1',
      lastSeenUnixMicros: Date.now() * 1000,
      hostname: 'node-1.city-a',
      agentVersion: '0.3.1',
      capabilities: ['ebpf'],
      policyVersion: 'p1',
    },
  ]);
  app = testApp(warehouse, [A, B, C], {
    ping: async () => (await warehouse.client.ping()).success,
  });
});

afterAll(async () => {
  await drop();
});

const EVERYTHING = `{
  events { edges { node { id } } }
  alerts { edges { node { id } } countsBySeverity { total } }
  agents { edges { node { id } } }
  workloads { edges { node { podName } } }
}`;

describe('tenant isolation', () => {
  it("shows a tenant's token its own events, alerts, agents and workloads", async () => {
    const result = await gql(app, token(A, 'viewer'), EVERYTHING);
    expect(result.body.errors).toBeUndefined();
    const data = result.body.data as Record<string, { edges: unknown[] }>;
    expect(data['events']?.edges).toHaveLength(5);
    expect(data['alerts']?.edges).toHaveLength(2);
    expect(data['agents']?.edges).toHaveLength(1);
    expect(data['workloads']?.edges?.length).toBeGreaterThan(0);
  });

  it("shows another tenant's token none of them", async () => {
    const result = await gql(app, token(B, 'admin'), EVERYTHING);
    expect(result.body).toEqual({
      data: {
        events: { edges: [] },
        alerts: { edges: [], countsBySeverity: { total: 0 } },
        agents: { edges: [] },
        workloads: { edges: [] },
      },
    });
  });

  it("does not let another tenant's admin change the tenant's alerts", async () => {
    await gql(
      app,
      token(B, 'admin'),
      'mutation { setAlertStatus(ids: ["alert-1"], status: RESOLVED) { ids } }',
    );
    const result = await gql(
      app,
      token(A, 'viewer'),
      '{ alerts(filter: { statuses: [OPEN] }) { edges { node { id status } } } }',
    );
    expect(result.body.data).toMatchObject({
      alerts: {
        edges: expect.arrayContaining([{ node: { id: 'alert-1', status: 'OPEN' } }]) as unknown,
      },
    });
  });
});

describe('events', () => {
  const names = async (filter: string) => {
    const result = await gql(
      app,
      token(A, 'viewer'),
      `{ events(filter: ${filter}) { edges { node { processName } } } }`,
    );
    expect(result.body.errors).toBeUndefined();
    return (
      result.body.data as { events: { edges: { node: { processName: string } }[] } }
    ).events.edges.map((e) => e.node.processName);
  };

  it('filters by host, namespace, kind, process name, text and time range', async () => {
    expect(await names('{ hostname: "node-2.city-a" }')).toEqual(['bash']);
    expect(await names('{ namespace: "payments" }')).toEqual(['nc']);
    expect(await names('{ kinds: [FILE_OPEN] }')).toEqual(['cat']);
    expect(await names('{ processName: "curl" }')).toEqual(['curl', 'curl']);
    expect(await names('{ text: "EVIL.example" }')).toEqual(['curl']);
    expect(await names('{ text: "/etc/shad" }')).toEqual(['cat']);
    expect(await names(`{ from: "${iso(T0 + SECOND)}", to: "${iso(T0 + 3 * SECOND)}" }`)).toEqual([
      'cat',
      'bash',
    ]);
  });

  it('pages newest first with cursors that resume where the page ended', async () => {
    const query =
      'query ($after: String) { events(first: 2, after: $after) { edges { cursor node { processName observedAt } } pageInfo { hasNextPage endCursor } } }';
    type Page = {
      events: {
        edges: { cursor: string; node: { processName: string; observedAt: string } }[];
        pageInfo: { hasNextPage: boolean; endCursor: string | null };
      };
    };
    const seen: string[] = [];
    let after: string | null = null;
    let pages = 0;
    do {
      const result = await gql(app, token(A, 'viewer'), query, { after });
      expect(result.body.errors).toBeUndefined();
      const page = (result.body.data as Page).events;
      seen.push(...page.edges.map((edge) => edge.node.processName));
      after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
      pages++;
    } while (after !== null);
    expect(pages).toBe(3);
    expect(seen).toEqual(['curl', 'nc', 'cat', 'bash', 'curl']);

    // Any edge's cursor resumes right after that edge.
    const first = await gql(app, token(A, 'viewer'), query, { after: null });
    const middle = (first.body.data as Page).events.edges[0]!.cursor;
    const resumed = await gql(app, token(A, 'viewer'), query, { after: middle });
    expect((resumed.body.data as Page).events.edges.map((edge) => edge.node.processName)).toEqual([
      'nc',
      'cat',
    ]);
    expect((first.body.data as Page).events.edges[0]!.node.observedAt).toBe(
      `${iso(T0 + 3700 * SECOND).slice(0, 19)}.000000Z`,
    );
  });

  it('counts events in time buckets', async () => {
    const result = await gql(
      app,
      token(A, 'viewer'),
      `{ eventCounts(from: "${iso(T0)}", to: "${iso(T0 + 7200 * SECOND)}", bucketSeconds: 3600) { start count } }`,
    );
    expect(result.body.data).toEqual({
      eventCounts: [
        { start: `${iso(T0).slice(0, 19)}.000000Z`, count: 4 },
        { start: `${iso(T0 + 3600 * SECOND).slice(0, 19)}.000000Z`, count: 1 },
      ],
    });
  });
});

describe('alerts, agents and workloads', () => {
  it('filters alerts by severity and counts them by severity over the filter', async () => {
    const result = await gql(
      app,
      token(A, 'viewer'),
      '{ alerts(filter: { severities: [CRITICAL] }) { edges { node { id ruleId severity status } } countsBySeverity { critical high total } } }',
    );
    expect(result.body.data).toEqual({
      alerts: {
        edges: [
          { node: { id: 'alert-2', ruleId: 'netcat', severity: 'CRITICAL', status: 'OPEN' } },
        ],
        countsBySeverity: { critical: 1, high: 0, total: 1 },
      },
    });
  });

  it('lets an analyst acknowledge an alert', async () => {
    const set = await gql(
      app,
      token(A, 'analyst'),
      'mutation { setAlertStatus(ids: ["alert-2"], status: ACKNOWLEDGED) { status } }',
    );
    expect(set.body.errors).toBeUndefined();
    const result = await gql(
      app,
      token(A, 'viewer'),
      '{ alerts(filter: { ruleIds: ["netcat"] }) { edges { node { status } } } }',
    );
    expect(result.body.data).toEqual({ alerts: { edges: [{ node: { status: 'ACKNOWLEDGED' } }] } });
  });

  it('shows agents with version, last seen and whether they are connected', async () => {
    const result = await gql(
      app,
      token(A, 'viewer'),
      '{ agents { edges { node { id hostname version connected lastSeenAt } } } }',
    );
    expect(result.body.data).toMatchObject({
      agents: {
        edges: [
          { node: { id: 'node-1', hostname: 'node-1.city-a', version: '0.3.1', connected: true } },
        ],
      },
    });
  });

  it('shows workloads with their images, containers and hosts', async () => {
    const result = await gql(
      app,
      token(A, 'viewer'),
      '{ workloads(filter: { namespace: "citizens" }) { edges { node { namespace podName images hosts containers { containerId hostname } } } } }',
    );
    const node = (result.body.data as { workloads: { edges: { node: Record<string, unknown> }[] } })
      .workloads.edges[0]?.node;
    expect(node).toMatchObject({
      namespace: 'citizens',
      podName: 'portal-7d9f',
      images: ['registry.example.gov/city/portal:1.4.2'],
    });
    expect(node?.['hosts']).toEqual(expect.arrayContaining(['node-1.city-a']));
  });
});

describe('readiness', () => {
  it('is ready while the warehouse answers', async () => {
    expect((await app.server.inject('/readyz')).statusCode).toBe(200);
  });
});

describe('incidents and triage', () => {
  const HOUR = 3600 * SECOND;
  const miner = (id: string, at: number, severity: 'high' | 'critical' = 'high') => ({
    id,
    tenantId: C,
    observedUnixMicros: at,
    ruleId: 'miner',
    ruleName: 'Cryptominer',
    severity,
    title: `xmrig (${id})`,
    agentId: 'node-1',
    eventId: `ev-${id}`,
    hostname: 'node-1.city-c',
    namespace: 'citizens',
    podName: 'portal-7d9f',
    containerId: 'c0ffee01',
  });
  type Incident = {
    id: string;
    alertCount: number;
    severity: string;
    status: string;
    title: string;
    statusChange: { by: string; note: string } | null;
  };
  const incidents = async (bearer: string, filter = '{}') => {
    const result = await gql(
      app,
      bearer,
      `{ incidents(filter: ${filter}) { edges { node { id alertCount severity status title statusChange { by note } } } countsBySeverity { high critical total } } }`,
    );
    expect(result.body.errors).toBeUndefined();
    const data = result.body.data as {
      incidents: { edges: { node: Incident }[]; countsBySeverity: Record<string, number> };
    };
    return {
      nodes: data.incidents.edges.map((edge) => edge.node),
      counts: data.incidents.countsBySeverity,
    };
  };
  let minerId: string;

  beforeAll(async () => {
    const first = [miner('m1', T0 + SECOND), miner('m2', T0 + 2 * SECOND, 'critical')];
    await warehouse.insertAlerts([...first, miner('m3', T0 + 3 * SECOND)]);
    await warehouse.insertAlerts(first); // a detector replay
    await warehouse.insertAlerts([
      { ...miner('n1', T0 + 4 * SECOND), ruleId: 'netcat', title: 'nc' },
      miner('later', T0 + HOUR + SECOND),
    ]);
    const { nodes } = await incidents(token(C, 'viewer'), '{ ruleIds: ["miner"] }');
    minerId = nodes.find((node) => node.alertCount === 3)!.id;
  });

  it('rolls a rule’s alerts on one pod within an hour into one incident, replays counted once', async () => {
    const { nodes, counts } = await incidents(token(C, 'viewer'));
    expect(nodes.map((node) => [node.title, node.alertCount, node.severity])).toEqual([
      ['xmrig (later)', 1, 'HIGH'],
      ['nc', 1, 'HIGH'],
      ['xmrig (m1)', 3, 'CRITICAL'],
    ]);
    expect(counts).toEqual({ high: 2, critical: 1, total: 3 });
    expect((await incidents(token(C, 'viewer'), '{ severities: [CRITICAL] }')).nodes).toEqual([
      expect.objectContaining({ id: minerId }),
    ]);
  });

  it('shows an incident with its alerts, paged, to its tenant only', async () => {
    const query = `query ($id: ID!, $after: String) { incident(id: $id) {
      id windowStart windowEnd workload { kind key namespace podName }
      alerts(first: 2, after: $after) { edges { node { id } } pageInfo { hasNextPage endCursor } } } }`;
    const first = await gql(app, token(C, 'viewer'), query, { id: minerId });
    expect(first.body.errors).toBeUndefined();
    const incident = (
      first.body.data as {
        incident: {
          windowStart: string;
          windowEnd: string;
          workload: unknown;
          alerts: {
            edges: { node: { id: string } }[];
            pageInfo: { hasNextPage: boolean; endCursor: string };
          };
        };
      }
    ).incident;
    expect(incident.workload).toEqual({
      kind: 'POD',
      key: 'citizens/portal-7d9f',
      namespace: 'citizens',
      podName: 'portal-7d9f',
    });
    expect(incident.windowStart).toBe(`${iso(T0).slice(0, 19)}.000000Z`);
    expect(incident.windowEnd).toBe(`${iso(T0 + HOUR).slice(0, 19)}.000000Z`);
    expect(incident.alerts.edges.map((edge) => edge.node.id)).toEqual(['m3', 'm2']);
    expect(incident.alerts.pageInfo.hasNextPage).toBe(true);
    const rest = await gql(app, token(C, 'viewer'), query, {
      id: minerId,
      after: incident.alerts.pageInfo.endCursor,
    });
    expect(rest.body.data).toMatchObject({
      incident: { alerts: { edges: [{ node: { id: 'm1' } }], pageInfo: { hasNextPage: false } } },
    });
    expect((await gql(app, token(B, 'admin'), query, { id: minerId })).body.data).toEqual({
      incident: null,
    });
    expect((await incidents(token(B, 'admin'))).nodes).toEqual([]);
  });

  it('keeps a suppressed incident suppressed while alerts join it, and audits who did it', async () => {
    const suppress = await gql(
      app,
      token(C, 'analyst'),
      'mutation ($id: ID!) { suppressIncident(id: $id, note: "pen test this week") { id status statusChange { by note } } }',
      { id: minerId },
    );
    expect(suppress.body).toEqual({
      data: {
        suppressIncident: {
          id: minerId,
          status: 'SUPPRESSED',
          statusChange: { by: `analyst@${C}`, note: 'pen test this week' },
        },
      },
    });
    // Another tenant's admin cannot touch it, and leaves no trace in its trail.
    const foreign = await gql(
      app,
      token(B, 'admin'),
      'mutation ($id: ID!) { resolveIncident(id: $id) { id } }',
      { id: minerId },
    );
    expect(foreign.body.errors?.[0]?.extensions?.['code']).toBe('NOT_FOUND');
    // A viewer of the tenant cannot either.
    const viewer = await gql(
      app,
      token(C, 'viewer'),
      'mutation ($id: ID!) { acknowledgeIncident(id: $id) { id } }',
      { id: minerId },
    );
    expect(viewer.body.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');

    await warehouse.insertAlerts([miner('m4', T0 + 10 * SECOND)]);
    const [suppressed] = (await incidents(token(C, 'viewer'), '{ statuses: [SUPPRESSED] }')).nodes;
    expect(suppressed).toMatchObject({ id: minerId, alertCount: 4, status: 'SUPPRESSED' });
    expect((await incidents(token(C, 'viewer'), '{ statuses: [OPEN] }')).nodes).toHaveLength(2);

    const resolve = await gql(
      app,
      token(C, 'admin'),
      'mutation ($id: ID!) { resolveIncident(id: $id) { status } }',
      { id: minerId },
    );
    expect(resolve.body.data).toEqual({ resolveIncident: { status: 'RESOLVED' } });
    const trail = await gql(
      app,
      token(C, 'viewer'),
      'query ($id: ID!) { auditTrail(targetType: INCIDENT, targetId: $id) { edges { node { targetType targetId action actor note at } } } }',
      { id: minerId },
    );
    const entries = (
      trail.body.data as { auditTrail: { edges: { node: Record<string, unknown> }[] } }
    ).auditTrail.edges.map((edge) => edge.node);
    expect(entries).toEqual([
      expect.objectContaining({ action: 'RESOLVE', actor: tokenActor(token(C, 'admin')) }),
      expect.objectContaining({
        targetType: 'INCIDENT',
        targetId: minerId,
        action: 'SUPPRESS',
        actor: `analyst@${C}`,
        note: 'pen test this week',
      }),
    ]);
    const theirs = await gql(
      app,
      token(B, 'admin'),
      'query ($id: ID!) { auditTrail(targetType: INCIDENT, targetId: $id) { edges { cursor } } }',
      { id: minerId },
    );
    expect(theirs.body.data).toEqual({ auditTrail: { edges: [] } });
  });

  it('suppresses alerts with a note, recorded with the actor in their trail', async () => {
    const set = await gql(
      app,
      token(C, 'analyst'),
      'mutation { setAlertStatus(ids: ["n1"], status: SUPPRESSED, note: "admin tooling") { status } }',
    );
    expect(set.body.data).toEqual({ setAlertStatus: { status: 'SUPPRESSED' } });
    const result = await gql(
      app,
      token(C, 'viewer'),
      '{ alerts(filter: { statuses: [SUPPRESSED] }) { edges { node { id } } } auditTrail(targetType: ALERT, targetId: "n1") { edges { node { action actor note } } } }',
    );
    expect(result.body.data).toEqual({
      alerts: { edges: [{ node: { id: 'n1' } }] },
      auditTrail: {
        edges: [{ node: { action: 'SUPPRESS', actor: `analyst@${C}`, note: 'admin tooling' } }],
      },
    });
  });
});
