import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createEnvReader } from '@mamori/common';
import { connectAgent, execEvent } from '@mamori/ingest/testing';
import { openWarehouse, readWarehouseConfig } from '@mamori/warehouse';
import { killHard, spawnMamori } from './support/processes.js';

/**
 * `mamori start` on a fresh data directory with, for each tenant, an agent token (agent
 * node-1), a viewer's and an admin's API token; stopped and removed when the test ends.
 */
async function startForTenants(names: string[]) {
  const dataDir = mkdtempSync(join(tmpdir(), 'mamori-start-'));
  onTestFinished(() => rmSync(dataDir, { recursive: true, force: true }));
  const token = (): string => randomBytes(24).toString('base64url');
  const tenants = names.map((tenant) => ({
    tenant,
    agentToken: token(),
    apiToken: token(),
    adminToken: token(),
  }));
  const platform = await spawnMamori('start', {
    MAMORI_DATA_DIR: dataDir,
    MAMORI_INGEST_TOKENS: JSON.stringify(
      tenants.map((t) => ({ token: t.agentToken, tenant: t.tenant, agentId: 'node-1' })),
    ),
    MAMORI_API_TOKENS: JSON.stringify(
      tenants.flatMap((t) => [
        { token: t.apiToken, tenant: t.tenant, role: 'viewer' },
        { token: t.adminToken, tenant: t.tenant, role: 'admin', name: `admin@${t.tenant}` },
      ]),
    ),
  });
  onTestFinished(() => killHard(platform.child));
  return { platform, tenants };
}

describe('mamori start', () => {
  it('runs ingest and store on embedded defaults: an agent with the generated credential gets its events into the warehouse', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'mamori-start-'));
    onTestFinished(() => rmSync(dataDir, { recursive: true, force: true }));
    const platform = await spawnMamori('start', { MAMORI_DATA_DIR: dataDir });
    onTestFinished(() => killHard(platform.child));

    const file = join(dataDir, 'agents.json');
    expect(statSync(file).mode & 0o077).toBe(0);
    const { agents } = JSON.parse(readFileSync(file, 'utf8')) as {
      agents: { token: string; tenant: string }[];
    };
    expect(agents[0]?.tenant).toBe('default');
    // The token is never written to the log.
    expect(platform.output.join('\n')).not.toContain(agents[0]!.token);

    const agent = connectAgent(`127.0.0.1:${platform.port}`, agents[0]!.token);
    onTestFinished(() => agent.close());
    // A fleet credential: the agent names itself.
    expect((await agent.hello('laptop')).welcome).toMatchObject({
      tenant_id: 'default',
      agent_id: 'laptop',
    });
    const sent = [execEvent(), execEvent()];
    agent.sendBatch(1, sent);
    expect((await agent.ack(1)).status).toBe('ACK_STATUS_ACCEPTED');
    agent.close();

    // The events become visible through the GraphQL API, with the generated API token.
    const apiTokens = JSON.parse(readFileSync(join(dataDir, 'api-tokens.json'), 'utf8')) as {
      tokens: { token: string }[];
    };
    const query = async (token: string): Promise<{ status: number; ids: string[] }> => {
      const response = await fetch(`http://127.0.0.1:${platform.apiPort}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: '{ events(first: 10) { edges { node { id } } } }' }),
      });
      if (response.status !== 200) return { status: response.status, ids: [] };
      const body = (await response.json()) as {
        data: { events: { edges: { node: { id: string } }[] } };
      };
      return { status: 200, ids: body.data.events.edges.map((e) => e.node.id).sort() };
    };
    const expected = sent.map((e) => e.id).sort();
    await expect
      .poll(async () => (await query(apiTokens.tokens[0]!.token)).ids, { timeout: 15_000 })
      .toEqual(expected);
    expect((await query('not-a-token-of-this-platform')).status).toBe(401);

    // One ops surface: the API's /readyz covers ingest and the store, its /metrics all three.
    const ready = await fetch(`http://127.0.0.1:${platform.apiPort}/readyz`);
    expect(ready.status).toBe(200);
    const metrics = await (await fetch(`http://127.0.0.1:${platform.apiPort}/metrics`)).text();
    expect(metrics).toMatch(/^mamori_ingest_events_accepted_total 2$/m);
    expect(metrics).toMatch(/^mamori_store_records_inserted_total\{stream="events"\} 2$/m);
    expect(metrics).toContain('mamori_api_http_requests_total');
    expect(metrics).not.toContain('mamori_ingest_process_cpu');

    // SIGTERM: ingest stops, the store flushes and commits, the process exits cleanly.
    const exited = new Promise<number | null>((resolve) => platform.child.once('exit', resolve));
    platform.child.kill('SIGTERM');
    expect(await exited).toBe(0);

    // The process is gone, so this one may open its chDB directory and look.
    const { warehouse } = await openWarehouse(
      readWarehouseConfig(createEnvReader({ MAMORI_DATA_DIR: dataDir }), { dataDir }),
    );
    onTestFinished(() => warehouse.close());
    const page = await warehouse.listEvents('default');
    expect(page.items.map((e) => e.id).sort()).toEqual(sent.map((e) => e.id).sort());
    expect((await warehouse.listEvents('another-tenant')).items).toEqual([]);
  });

  it("keeps tenants apart: a tenant's API token sees its own agents' events and workloads, none of another tenant's", async () => {
    const { platform, tenants: started } = await startForTenants(['city-a', 'city-b']);
    // Both tenants run a pod named shop/web-0, each with its own container.
    const tenants = started.map((t) => ({
      ...t,
      workload: {
        namespace: 'shop',
        pod_name: 'web-0',
        container_id: `${t.tenant}-web`,
        image_repository: 'registry.example.gov/shop/web',
      },
    }));

    const sent = new Map<string, string[]>();
    for (const t of tenants) {
      const agent = connectAgent(`127.0.0.1:${platform.port}`, t.agentToken);
      onTestFinished(() => agent.close());
      expect((await agent.hello('node-1')).welcome?.tenant_id).toBe(t.tenant);
      const events = [execEvent({ workload: t.workload }), execEvent({ workload: t.workload })];
      agent.sendBatch(1, events);
      expect((await agent.ack(1)).status).toBe('ACK_STATUS_ACCEPTED');
      sent.set(t.tenant, events.map((e) => e.id!).sort());
    }

    const visible = async (
      apiToken: string,
    ): Promise<{ events: string[]; containers: string[] }> => {
      const response = await fetch(`http://127.0.0.1:${platform.apiPort}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${apiToken}` },
        body: JSON.stringify({
          query: `{ events(first: 100) { edges { node { id } } }
            workloads(first: 100) { edges { node { containers { containerId } } } } }`,
        }),
      });
      const body = (await response.json()) as {
        data: {
          events: { edges: { node: { id: string } }[] };
          workloads: { edges: { node: { containers: { containerId: string }[] } }[] };
        };
      };
      return {
        events: body.data.events.edges.map((e) => e.node.id).sort(),
        containers: body.data.workloads.edges
          .flatMap((e) => e.node.containers.map((c) => c.containerId))
          .sort(),
      };
    };
    for (const t of tenants) {
      await expect
        .poll(() => visible(t.apiToken), { timeout: 30_000 })
        .toEqual({ events: sent.get(t.tenant), containers: [t.workload.container_id] });
    }

    const exited = new Promise<number | null>((resolve) => platform.child.once('exit', resolve));
    platform.child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });

  it("detects in the same process: an agent's miner in a container becomes an alert its tenant's token sees and another tenant's does not", async () => {
    const { platform, tenants } = await startForTenants(['city-a', 'city-b']);

    const workload = {
      container_id: '3f2a9c1b7d4e',
      namespace: 'citizens',
      pod_name: 'portal-7d9f',
      image_repository: 'registry.example.gov/city/portal',
    };
    const miner = execEvent({
      workload,
      process_exec: {
        process: {
          pid: 4242,
          ppid: 4200,
          name: 'xmrig',
          exe: '/tmp/xmrig',
          args: ['/tmp/xmrig', '-o', 'stratum+tcp://pool.example.net:3333'],
          user: 'app',
        },
      },
    });
    // city-a's agent runs the miner; city-b's only ordinary programs.
    for (const [t, events] of [
      [tenants[0]!, [execEvent({ workload }), miner]],
      [tenants[1]!, [execEvent({ workload })]],
    ] as const) {
      const agent = connectAgent(`127.0.0.1:${platform.port}`, t.agentToken);
      onTestFinished(() => agent.close());
      expect((await agent.hello('node-1')).welcome?.tenant_id).toBe(t.tenant);
      agent.sendBatch(1, [...events]);
      expect((await agent.ack(1)).status).toBe('ACK_STATUS_ACCEPTED');
    }

    interface AlertNode {
      ruleId: string;
      severity: string;
      title: string;
      agentId: string;
      eventId: string;
      containerId: string;
      podName: string;
    }
    const alerts = async (apiToken: string): Promise<AlertNode[]> => {
      const response = await fetch(`http://127.0.0.1:${platform.apiPort}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${apiToken}` },
        body: JSON.stringify({
          query: `{ alerts(first: 10) { edges { node {
            ruleId severity title agentId eventId containerId podName } } } }`,
        }),
      });
      const body = (await response.json()) as {
        data: { alerts: { edges: { node: AlertNode }[] } };
      };
      return body.data.alerts.edges.map((e) => e.node);
    };
    await expect
      .poll(() => alerts(tenants[0]!.apiToken), { timeout: 30_000 })
      .toEqual([
        {
          ruleId: 'mamori:Crypto miner started',
          severity: 'CRITICAL',
          title: expect.stringContaining('cmdline=xmrig -o stratum+tcp://pool.example.net:3333'),
          agentId: 'node-1',
          eventId: miner.id,
          containerId: workload.container_id,
          podName: workload.pod_name,
        },
      ]);
    expect(await alerts(tenants[1]!.apiToken)).toEqual([]);

    // The detector is on the process's one ops surface.
    expect((await fetch(`http://127.0.0.1:${platform.apiPort}/readyz`)).status).toBe(200);
    const metrics = await (await fetch(`http://127.0.0.1:${platform.apiPort}/metrics`)).text();
    expect(metrics).toMatch(/^mamori_detector_events_evaluated_total 3$/m);
    expect(metrics).toMatch(
      /^mamori_detector_alerts_produced_total\{rule="mamori:Crypto miner started",severity="critical"\} 1$/m,
    );
    expect(metrics).not.toContain('mamori_detector_process_cpu');

    const exited = new Promise<number | null>((resolve) => platform.child.once('exit', resolve));
    platform.child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });

  it("applies an admin's rule exception from GraphQL in the running detector, without a restart, and audits it", async () => {
    const { platform, tenants } = await startForTenants(['city-a']);
    const { agentToken, adminToken } = tenants[0]!;
    const graphql = async <T>(query: string, variables: Record<string, unknown> = {}) => {
      const response = await fetch(`http://127.0.0.1:${platform.apiPort}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${adminToken}` },
        body: JSON.stringify({ query, variables }),
      });
      return (await response.json()) as { data?: T; errors?: { message: string }[] };
    };
    const workload = {
      container_id: '3f2a9c1b7d4e',
      namespace: 'citizens',
      image_repository: 'registry.example.gov/city/portal',
    };
    const miner = (pid: number) =>
      execEvent({
        workload,
        process_exec: {
          process: {
            pid,
            name: 'xmrig',
            exe: '/tmp/xmrig',
            args: ['/tmp/xmrig', '-o', 'stratum+tcp://pool.example.net:3333'],
          },
        },
      });
    const agent = connectAgent(`127.0.0.1:${platform.port}`, agentToken);
    onTestFinished(() => agent.close());
    await agent.hello('node-1');
    const alertedEvents = async () =>
      (
        await graphql<{ alerts: { edges: { node: { eventId: string } }[] } }>(
          '{ alerts(first: 10) { edges { node { eventId } } } }',
        )
      ).data?.alerts.edges.map((e) => e.node.eventId) ?? [];

    // The detector publishes its rules: the miner rule is there to be tuned.
    await expect
      .poll(
        async () =>
          (
            await graphql<{ rule: { id: string } | null }>(
              '{ rule(id: "mamori:Crypto miner started") { id } }',
            )
          ).data?.rule?.id,
        { timeout: 30_000 },
      )
      .toBe('mamori:Crypto miner started');
    const first = miner(5001);
    agent.sendBatch(1, [first]);
    expect((await agent.ack(1)).status).toBe('ACK_STATUS_ACCEPTED');
    await expect.poll(alertedEvents, { timeout: 30_000 }).toEqual([first.id]);

    const upsert = await graphql(
      `
        mutation ($input: RuleExceptionInput!) {
          upsertRuleException(input: $input) {
            id
          }
        }
      `,
      {
        input: {
          id: 'portal-load-test',
          rule: 'mamori:Crypto miner started',
          fields: ['container.image.repository'],
          values: [['registry.example.gov/city/portal']],
          comment: 'the load test mines on purpose',
        },
      },
    );
    expect(upsert.errors).toBeUndefined();
    // Silenced once the running detector has it in force (it follows the tuning topic).
    const silenced = miner(5002);
    const elsewhere = execEvent({
      workload: { ...workload, image_repository: 'docker.io/evil/miner' },
      process_exec: {
        process: {
          pid: 5003,
          name: 'xmrig',
          exe: '/tmp/xmrig',
          args: ['/tmp/xmrig', '-o', 'stratum+tcp://pool.example.net:3333'],
        },
      },
    });
    const metric = async () =>
      (await (await fetch(`http://127.0.0.1:${platform.apiPort}/metrics`)).text()).match(
        /^mamori_detector_tuning_in_force\{kind="exception"\} (\d+)$/m,
      )?.[1];
    await expect.poll(metric, { timeout: 30_000 }).toBe('1');
    agent.sendBatch(2, [silenced, elsewhere]);
    expect((await agent.ack(2)).status).toBe('ACK_STATUS_ACCEPTED');
    await expect
      .poll(async () => (await alertedEvents()).sort(), { timeout: 30_000 })
      .toEqual([first.id, elsewhere.id].sort());
    const metrics = await (await fetch(`http://127.0.0.1:${platform.apiPort}/metrics`)).text();
    expect(metrics).toMatch(/^mamori_detector_alerts_suppressed_total\{by="exception"\} 1$/m);

    const trail = await graphql<{
      auditTrail: { edges: { node: { targetId: string; action: string; actor: string } }[] };
    }>('{ auditTrail(targetType: RULE_EXCEPTION) { edges { node { targetId action actor } } } }');
    expect(trail.data?.auditTrail.edges.map((e) => e.node)).toEqual([
      { targetId: 'portal-load-test', action: 'CREATE', actor: 'admin@city-a' },
    ]);
  });

  it('reports every configuration problem at once and exits non-zero', async () => {
    await expect(
      spawnMamori('ingest', {
        MAMORI_INGEST_PORT: 'not-a-port',
        MAMORI_BUS: 'carrier-pigeon',
        MAMORI_INGEST_TOKENS: '',
        MAMORI_INGEST_TOKENS_FILE: '',
      }),
    ).rejects.toThrow(/MAMORI_INGEST_PORT[\s\S]*MAMORI_BUS[\s\S]*MAMORI_INGEST_TOKENS/);
  });
});
