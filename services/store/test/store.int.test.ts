import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEmbeddedBus, DEAD_LETTER_HEADERS, type Bus, type EmbeddedBus } from '@mamori/bus';
import { createSilentLogger } from '@mamori/common';
import { protoType } from '@mamori/proto';
import { openWarehouse, type Warehouse } from '@mamori/warehouse';
import { afterAll, beforeAll, describe, expect, it, onTestFinished, vi } from 'vitest';
import { buildApp, readStoreConfig, type StoreApp, type StoreWarehouse } from '../src/index.js';
import { chdbTestDir, testDatabase } from './support/chdb.js';
import { committedCount, produceEvents, testEvent, unique } from './support/events.js';

// Real embedded bus and real chDB. One chDB directory per process (libchdb binds one), one
// database for this file, a tenant, topic and group per test.
let warehouse: Warehouse;
const database = testDatabase();

beforeAll(async () => {
  ({ warehouse } = await openWarehouse({
    kind: 'embedded',
    path: chdbTestDir(),
    database,
    retentionDays: 30,
  }));
});

afterAll(async () => {
  await warehouse.client.command({ query: `DROP DATABASE IF EXISTS ${database}` });
  await warehouse.close();
});

function busDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'mamori-store-int-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function store(
  bus: Bus,
  names: { topic: string; groupId: string; agentsTopic?: string; alertsTopic?: string },
  target: StoreWarehouse = warehouse,
): StoreApp {
  const config = readStoreConfig({
    MAMORI_TOPIC_EVENTS: names.topic,
    MAMORI_TOPIC_AGENTS: names.agentsTopic ?? unique('agents'),
    MAMORI_TOPIC_ALERTS: names.alertsTopic ?? unique('alerts'),
    MAMORI_STORE_GROUP: names.groupId,
    MAMORI_STORE_FLUSH_MS: '20',
  });
  const app = buildApp({ config, bus, warehouse: target, logger: createSilentLogger() });
  onTestFinished(() => app.stop(0));
  return app;
}

async function listIds(tenant: string): Promise<string[]> {
  const page = await warehouse.listEvents(tenant, {}, { limit: 1000 });
  return page.items.map((event) => event.id).sort();
}

describe('store on the embedded bus and chDB', () => {
  it('makes events produced to the bus queryable for their tenant, and only for it', async () => {
    const dir = busDir();
    const bus = await createEmbeddedBus({ dir, fsync: false });
    onTestFinished(() => bus.close());
    const names = { topic: unique('events'), groupId: unique('store') };
    await bus.ensureTopics([{ topic: names.topic, partitions: 3 }]);
    const tenantA = unique('tenant');
    const tenantB = unique('tenant');
    const eventsA = Array.from({ length: 40 }, (_, i) =>
      testEvent(tenantA, { agent_id: `node-${i % 4}` }),
    );
    const eventsB = [testEvent(tenantB), testEvent(tenantB)];
    await produceEvents(bus, names.topic, [...eventsA, ...eventsB]);

    await store(bus, names).start();
    await vi.waitFor(
      async () => expect(await committedCount(bus, names.groupId, names.topic)).toBe(42),
      { timeout: 10_000 },
    );
    expect(await listIds(tenantA)).toEqual(eventsA.map((event) => event.id).sort());
    expect(await listIds(tenantB)).toEqual(eventsB.map((event) => event.id).sort());
    const stored = (await warehouse.listEvents(tenantB)).items[0]!;
    expect(stored).toMatchObject({
      agentId: 'node-1',
      hostname: 'node-1.city-a',
      processName: 'sh',
    });
  });

  it('shows each event once after a crash between insert and commit and a restart', async () => {
    const dir = busDir();
    const names = { topic: unique('events'), groupId: unique('store') };
    const tenant = unique('tenant');
    const events = Array.from({ length: 30 }, () => testEvent(tenant));
    const inserts: number[] = [];
    const counting: StoreWarehouse = {
      insertEventRows: (rows) => {
        inserts.push(rows.length);
        return warehouse.insertEventRows(rows);
      },
      insertAlerts: (alerts) => warehouse.insertAlerts(alerts),
      upsertAgents: (agents) => warehouse.upsertAgents(agents),
    };

    // First life: every insert reaches ClickHouse, no commit ever reaches the bus (the
    // process dies in between).
    const first = await createEmbeddedBus({ dir, fsync: false });
    await first.ensureTopics([{ topic: names.topic, partitions: 2 }]);
    await produceEvents(first, names.topic, events);
    const crashing: Bus = {
      kind: first.kind,
      ensureTopics: (specs) => first.ensureTopics(specs),
      produce: (topic, records) => first.produce(topic, records),
      offsets: (topic) => first.offsets(topic),
      committed: (groupId, topic) => first.committed(groupId, topic),
      close: () => first.close(),
      consumer(options) {
        const consumer = first.consumer(options);
        return {
          run: (handler) => consumer.run(handler),
          assignment: () => consumer.assignment(),
          close: () => consumer.close(),
          commit: () => Promise.reject(new Error('killed before the commit')),
        };
      },
    };
    const dying = store(crashing, names, counting);
    await dying.start();
    await vi.waitFor(() => expect(inserts.reduce((a, b) => a + b, 0)).toBe(30), {
      timeout: 10_000,
    });
    await dying.stop(0);
    await first.close();
    expect(await listIds(tenant)).toHaveLength(30);

    // Second life on the same log: nothing was committed, so everything comes again.
    const second: EmbeddedBus = await createEmbeddedBus({ dir, fsync: false });
    onTestFinished(() => second.close());
    expect(await second.committed(names.groupId, names.topic)).toEqual([]);
    await store(second, names, counting).start();
    await vi.waitFor(
      async () => expect(await committedCount(second, names.groupId, names.topic)).toBe(30),
      { timeout: 10_000 },
    );
    // Every event was inserted twice, and a query still shows each once.
    expect(inserts.reduce((a, b) => a + b, 0)).toBe(60);
    expect(await listIds(tenant)).toEqual(events.map((event) => event.id).sort());
    const [count] = await warehouse.countEvents(
      tenant,
      { fromMicros: 0, toMicros: Date.now() * 1000 + 60_000_000 },
      86_400 * 365,
    );
    expect(count).toMatchObject({ count: 30 });
  });

  it("keeps each agent's newest status: connected after its hello, not after its stream ended", async () => {
    const bus = await createEmbeddedBus({ dir: busDir(), fsync: false });
    onTestFinished(() => bus.close());
    const names = {
      topic: unique('events'),
      groupId: unique('store'),
      agentsTopic: unique('agents'),
    };
    await bus.ensureTopics([{ topic: names.agentsTopic, partitions: 1 }]);
    const tenant = unique('tenant');
    const type = protoType('mamori.v1.AgentStatus');
    const status = (agentId: string, seen: number, connected: boolean) => ({
      key: Buffer.from(`${tenant}/${agentId}`),
      value: Buffer.from(
        type
          .encode(
            type.fromObject({
              tenant_id: tenant,
              agent_id: agentId,
              hostname: `${agentId}.city-a`,
              agent_version: '1.2.0',
              capabilities: ['process', 'network'],
              seen_unix_micros: seen,
              connected,
            }),
          )
          .finish(),
      ),
    });
    const now = Date.now() * 1000;
    await bus.produce(names.agentsTopic, [
      status('node-1', now - 2_000_000, true),
      status('node-2', now - 2_000_000, true),
      status('node-2', now - 1_000_000, false),
    ]);
    await store(bus, names).start();
    await vi.waitFor(
      async () => expect((await warehouse.listAgents(tenant)).items).toHaveLength(2),
      { timeout: 10_000 },
    );
    const agents = (await warehouse.listAgents(tenant)).items;
    expect(agents).toEqual([
      expect.objectContaining({
        agentId: 'node-1',
        hostname: 'node-1.city-a',
        agentVersion: '1.2.0',
        capabilities: ['process', 'network'],
        connected: true,
      }),
      expect.objectContaining({ agentId: 'node-2', connected: false }),
    ]);
    expect((await warehouse.listAgents(unique('tenant'))).items).toEqual([]);
  });

  it("stores detectors' alerts for their tenant, keeps an analyst's status on replay, and dead-letters one without severity", async () => {
    const bus = await createEmbeddedBus({ dir: busDir(), fsync: false });
    onTestFinished(() => bus.close());
    const names = {
      topic: unique('events'),
      groupId: unique('store'),
      alertsTopic: unique('alerts'),
    };
    await bus.ensureTopics([{ topic: names.alertsTopic, partitions: 2 }]);
    const tenant = unique('tenant');
    const type = protoType('mamori.v1.Alert');
    const now = Date.now() * 1000;
    const alert = (id: string, overrides: Record<string, unknown> = {}) => ({
      key: Buffer.from(`${tenant}/node-1`),
      value: Buffer.from(
        type
          .encode(
            type.fromObject({
              id,
              tenant_id: tenant,
              observed_unix_micros: now,
              rule_id: 'shell-in-container',
              rule_name: 'Terminal shell in container',
              severity: 'SEVERITY_HIGH',
              title: 'A shell was spawned in a container',
              agent_id: 'node-1',
              event_id: 'ev-1',
              hostname: 'node-1.city-a',
              workload: { namespace: 'citizens', pod_name: 'portal-1', container_id: 'c1' },
              tags: ['T1059'],
              details: { 'proc.cmdline': 'sh -i' },
              ...overrides,
            }),
          )
          .finish(),
      ),
    });
    await bus.produce(names.alertsTopic, [
      alert('a1'),
      alert('a2', { severity: 'SEVERITY_CRITICAL' }),
      alert('no-severity', { severity: 'SEVERITY_UNSPECIFIED' }),
    ]);
    const app = store(bus, names);
    await app.start();
    await vi.waitFor(
      async () => expect((await warehouse.listAlerts(tenant)).items).toHaveLength(2),
      { timeout: 10_000 },
    );
    const [a2, a1] = (await warehouse.listAlerts(tenant)).items;
    expect(a1).toMatchObject({
      id: 'a1',
      severity: 'high',
      status: 'open',
      namespace: 'citizens',
      podName: 'portal-1',
      tags: ['T1059'],
      details: { 'proc.cmdline': 'sh -i' },
    });
    expect(a2).toMatchObject({ id: 'a2', severity: 'critical' });
    const deadLetters = async () => {
      const dlq = `${names.alertsTopic}.dlq`;
      const partitions = await bus.offsets(dlq).catch(() => []);
      return (await Promise.all(partitions.map((p) => bus.read(dlq, p.partition, 0)))).flat();
    };
    await vi.waitFor(async () => expect(await deadLetters()).toHaveLength(1), { timeout: 10_000 });
    expect((await deadLetters())[0]!.headers[DEAD_LETTER_HEADERS.errorCode]).toBe(
      'MAMORI_BUS_DECODE',
    );

    // An analyst resolves a1; the detector replays it: it stays resolved.
    await warehouse.setAlertStatus(tenant, ['a1'], 'resolved');
    await bus.produce(names.alertsTopic, [alert('a1')]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await app.stop();
    const again = (await warehouse.listAlerts(tenant)).items.find((a) => a.id === 'a1');
    expect(again?.status).toBe('resolved');
    expect((await warehouse.listAlerts(unique('tenant'))).items).toEqual([]);
  });
});
