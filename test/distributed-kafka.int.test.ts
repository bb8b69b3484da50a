import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testKafkaBrokers } from '@mamori/common/testing';
import { connectAgent, execEvent } from '@mamori/ingest/testing';
import type { Workload } from '@mamori/proto';
import { startClickHouseHttpServer } from '@mamori/warehouse/testing';
import { killHard, spawnMamori, terminate, type MamoriProcess } from './support/processes.js';

// The platform as deployed at scale: `mamori ingest`, `mamori store` and `mamori api` as
// separate processes on Kafka, the store and the API sharing one ClickHouse. ClickHouse is the
// stand-in on chDB in this process (chDB binds a data directory to one process, so the two
// services reach it over HTTP, as they would a real server).

const brokers = testKafkaBrokers();

/** Unique per run: topics, group, database and tenants never meet an earlier run's. */
const run = randomBytes(4).toString('hex');
const token = (): string => randomBytes(24).toString('base64url');

function workload(namespace: string, pod: string, containerId: string): Workload {
  return {
    namespace,
    pod_name: pod,
    container_id: containerId,
    container_name: pod.replace(/-\d+$/, ''),
    runtime: 'containerd',
    image_repository: `registry.example.gov/${namespace}/${pod.replace(/-\d+$/, '')}`,
    image_tag: '1.4.2',
    image_digest: `sha256:${containerId.padEnd(64, '0')}`,
  };
}

interface TenantFixture {
  id: string;
  apiToken: string;
  agents: { agentId: string; token: string; hostname: string; workloads: Workload[] }[];
}

// Both tenants run a pod named shop/web-0: the pod's name is no key across tenants.
const tenantA: TenantFixture = {
  id: `city-a-${run}`,
  apiToken: token(),
  agents: [
    {
      agentId: 'a-node-1',
      token: token(),
      hostname: 'a-node-1',
      workloads: [workload('shop', 'web-0', 'a1a1web'), workload('shop', 'db-0', 'a1a1db')],
    },
    {
      agentId: 'a-node-2',
      token: token(),
      hostname: 'a-node-2',
      workloads: [workload('shop', 'web-1', 'a2a2web')],
    },
  ],
};
const tenantB: TenantFixture = {
  id: `city-b-${run}`,
  apiToken: token(),
  agents: [
    {
      agentId: 'b-node-1',
      token: token(),
      hostname: 'b-node-1',
      workloads: [workload('shop', 'web-0', 'b1b1web'), workload('bank', 'ledger-0', 'b1b1ledger')],
    },
  ],
};
const tenants = [tenantA, tenantB];

/** Event ids each tenant's agents sent, filled once they were acknowledged. */
const sent = new Map<TenantFixture, string[]>();

/** `namespace/pod: container ids` of what a tenant's agents reported, sorted like the API. */
function expectedWorkloads(tenant: TenantFixture): string[] {
  const pods = new Map<string, string[]>();
  for (const w of tenant.agents.flatMap((a) => a.workloads)) {
    const key = `${w.namespace}/${w.pod_name}`;
    pods.set(key, [...(pods.get(key) ?? []), w.container_id!].sort());
  }
  return [...pods].map(([pod, containers]) => `${pod}: ${containers.join(',')}`).sort();
}

describe.skipIf(!brokers)('distributed mode: mamori ingest, store and api on Kafka', () => {
  const cleanups: (() => unknown)[] = [];
  let ingest: MamoriProcess;
  let store: MamoriProcess;
  let api: MamoriProcess;

  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mamori-distributed-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const clickhouse = { username: 'mamori', password: token() };
    const server = await startClickHouseHttpServer({ path: join(dir, 'chdb'), ...clickhouse });
    cleanups.push(() => server.close());

    const bus = {
      MAMORI_BUS: 'kafka',
      MAMORI_KAFKA_BROKERS: brokers!.join(','),
      MAMORI_TOPIC_EVENTS: `e2e.events.${run}`,
      MAMORI_TOPIC_EVENTS_REJECTED: `e2e.events.rejected.${run}`,
      MAMORI_TOPIC_AGENTS: `e2e.agents.${run}`,
      MAMORI_EVENTS_PARTITIONS: '3',
    };
    const warehouse = {
      MAMORI_WAREHOUSE: 'clickhouse',
      MAMORI_CLICKHOUSE_URL: server.url,
      MAMORI_CLICKHOUSE_USER: clickhouse.username,
      MAMORI_CLICKHOUSE_PASSWORD: clickhouse.password,
      MAMORI_CLICKHOUSE_DATABASE: `e2e_${run}`,
    };
    // Each service gets only its own settings, and a data directory outside the repository.
    const dataDir = (service: string) => ({ MAMORI_DATA_DIR: join(dir, service) });

    ingest = await spawnMamori('ingest', {
      ...bus,
      ...dataDir('ingest'),
      MAMORI_INGEST_TOKENS: JSON.stringify(
        tenants.flatMap((t) =>
          t.agents.map((a) => ({ token: a.token, tenant: t.id, agentId: a.agentId })),
        ),
      ),
    });
    cleanups.push(() => killHard(ingest.child));
    store = await spawnMamori('store', {
      ...bus,
      ...warehouse,
      ...dataDir('store'),
      MAMORI_STORE_GROUP: `e2e-store-${run}`,
    });
    cleanups.push(() => killHard(store.child));
    api = await spawnMamori('api', {
      ...warehouse,
      ...dataDir('api'),
      MAMORI_API_TOKENS: JSON.stringify(
        tenants.map((t) => ({ token: t.apiToken, tenant: t.id, role: 'viewer' })),
      ),
    });
    cleanups.push(() => killHard(api.child));

    // Every agent connects with its own credential and reports events from its containers;
    // an ack means ingest has them durably on Kafka.
    for (const tenant of tenants) {
      const ids: string[] = [];
      for (const credential of tenant.agents) {
        const agent = connectAgent(`127.0.0.1:${ingest.port}`, credential.token);
        cleanups.push(() => agent.close());
        expect((await agent.hello(credential.agentId)).welcome).toMatchObject({
          tenant_id: tenant.id,
          agent_id: credential.agentId,
        });
        const events = credential.workloads.flatMap((w) => [
          execEvent({ host: { hostname: credential.hostname }, workload: w }),
          execEvent({ host: { hostname: credential.hostname }, workload: w }),
        ]);
        agent.sendBatch(1, events);
        expect((await agent.ack(1, 30_000)).status).toBe('ACK_STATUS_ACCEPTED');
        ids.push(...events.map((e) => e.id!));
      }
      sent.set(tenant, ids.sort());
    }
  });

  async function graphql<T>(bearer: string, query: string): Promise<{ status: number; data?: T }> {
    const response = await fetch(`http://127.0.0.1:${api.port}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${bearer}` },
      body: JSON.stringify({ query }),
    });
    if (response.status !== 200) return { status: response.status };
    const body = (await response.json()) as { data?: T; errors?: unknown[] };
    // A GraphQL error fails the assertion; it never passes for an empty answer.
    expect(body.errors).toBeUndefined();
    return { status: 200, ...(body.data ? { data: body.data } : {}) };
  }

  type Edges<N> = { edges: { node: N }[] };

  async function eventIds(bearer: string, filter = ''): Promise<string[]> {
    const { data } = await graphql<{ events: Edges<{ id: string }> }>(
      bearer,
      `{ events(first: 500${filter ? `, filter: ${filter}` : ''}) { edges { node { id } } } }`,
    );
    return (data?.events.edges ?? []).map((e) => e.node.id).sort();
  }

  async function workloads(bearer: string, filter = ''): Promise<string[]> {
    const { data } = await graphql<{
      workloads: Edges<{
        namespace: string;
        podName: string;
        containers: { containerId: string }[];
      }>;
    }>(
      bearer,
      `{ workloads(first: 500${filter ? `, filter: ${filter}` : ''}) {
          edges { node { namespace podName containers { containerId } } } } }`,
    );
    return (data?.workloads.edges ?? [])
      .map(
        ({ node }) =>
          `${node.namespace}/${node.podName}: ${node.containers
            .map((c) => c.containerId)
            .sort()
            .join(',')}`,
      )
      .sort();
  }

  async function agentIds(bearer: string): Promise<string[]> {
    const { data } = await graphql<{ agents: Edges<{ id: string }> }>(
      bearer,
      '{ agents(first: 500) { edges { node { id } } } }',
    );
    return (data?.agents.edges ?? []).map((e) => e.node.id).sort();
  }

  it("shows each tenant's token exactly the events its own agents sent, none of the other tenant's", async () => {
    for (const tenant of tenants) {
      await expect
        .poll(() => eventIds(tenant.apiToken), { timeout: 30_000, interval: 250 })
        .toEqual(sent.get(tenant));
    }
    expect(sent.get(tenantA)).not.toEqual(sent.get(tenantB));
    // Asking for the other tenant's agent by name finds nothing either.
    expect(await eventIds(tenantA.apiToken, '{ agentId: "b-node-1" }')).toEqual([]);
    expect(await eventIds(tenantB.apiToken, '{ agentId: "a-node-1" }')).toEqual([]);
  });

  it("shows each tenant's token exactly its own workloads, even where the other tenant runs a pod of the same name", async () => {
    for (const tenant of tenants) {
      await expect
        .poll(() => workloads(tenant.apiToken), { timeout: 30_000, interval: 250 })
        .toEqual(expectedWorkloads(tenant));
    }
    expect(await workloads(tenantA.apiToken, '{ namespace: "bank" }')).toEqual([]);
  });

  it("shows each tenant's token exactly its own agents, none of the other tenant's", async () => {
    for (const tenant of tenants) {
      await expect
        .poll(() => agentIds(tenant.apiToken), { timeout: 30_000, interval: 250 })
        .toEqual(tenant.agents.map((a) => a.agentId).sort());
    }
  });

  it('refuses a token it does not know with 401, and with it every query', async () => {
    for (const query of [
      '{ events(first: 10) { edges { node { id } } } }',
      '{ workloads(first: 10) { edges { node { podName } } } }',
      '{ agents(first: 10) { edges { node { id } } } }',
    ]) {
      expect((await graphql('not-a-token-of-this-platform', query)).status).toBe(401);
    }
  });

  it('stops every service on SIGTERM, in flow order, with exit code 0', async () => {
    expect(await terminate(ingest.child)).toBe(0);
    expect(await terminate(store.child)).toBe(0);
    expect(await terminate(api.child)).toBe(0);
  });
});
