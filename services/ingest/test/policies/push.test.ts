import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createEmbeddedBus, type Bus, type EmbeddedBus } from '@mamori/bus';
import { createSilentLogger } from '@mamori/common';
import {
  protoType,
  Topics,
  type Policy,
  type PolicyUpdate__Output,
  type ServerMessage__Output,
} from '@mamori/proto';
import { buildApp, type IngestApp } from '../../src/app.js';
import { readIngestConfig } from '../../src/config.js';
import { policyVersion } from '@mamori/rules';
import { connectAgent, execEvent, type TestAgent } from '../../src/testing/index.js';

const TOKENS = {
  a1: 'test-token-city-a-node-1',
  a3: 'test-token-city-a-node-3',
  b2: 'test-token-city-b-node-2',
} as const;
const AGENT_IDS = { a1: 'node-1', a3: 'node-3', b2: 'node-2' } as const;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const policyType = protoType('mamori.v1.Policy');

interface Harness {
  bus: EmbeddedBus;
  dir: string;
  app?: IngestApp;
  address?: string;
  /** Writes policies to the topic, as the API will: keyed `<tenant>/<id>`. */
  write(...policies: (Policy & { tenant_id: string; id: string })[]): Promise<void>;
  start(options?: { env?: Record<string, string>; bus?: Bus }): Promise<void>;
  agent(who: keyof typeof TOKENS): TestAgent;
}

async function harness(): Promise<Harness> {
  const dir = await mkdtemp(join(tmpdir(), 'mamori-ingest-policies-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const bus = await createEmbeddedBus({ dir, fsync: false });
  cleanups.push(() => bus.close());
  // The API creates the topic as ingest does; here the test writes before ingest starts.
  await bus.ensureTopics([{ topic: Topics.policies, cleanupPolicy: 'compact' }]);
  const h: Harness = {
    bus,
    dir,
    async write(...policies) {
      await bus.produce(
        Topics.policies,
        policies.map((p) => ({
          key: Buffer.from(`${p.tenant_id}/${p.id}`),
          value: Buffer.from(policyType.encode(policyType.fromObject(p)).finish()),
        })),
      );
    },
    async start(options = {}) {
      const config = readIngestConfig({
        ...options.env,
        MAMORI_INGEST_PORT: '0',
        MAMORI_INGEST_TOKENS: JSON.stringify([
          { token: TOKENS.a1, tenant: 'city-a', agentId: AGENT_IDS.a1 },
          { token: TOKENS.a3, tenant: 'city-a', agentId: AGENT_IDS.a3 },
          { token: TOKENS.b2, tenant: 'city-b', agentId: AGENT_IDS.b2 },
        ]),
      });
      const app = buildApp({ config, bus: options.bus ?? bus, logger: createSilentLogger() });
      const { port } = await app.start();
      cleanups.push(() => app.stop(1000));
      h.app = app;
      h.address = `127.0.0.1:${port}`;
    },
    agent(who) {
      const agent = connectAgent(h.address!, TOKENS[who]);
      cleanups.push(() => agent.close());
      return agent;
    },
  };
  return h;
}

const policies = (m: ServerMessage__Output): PolicyUpdate__Output => m.policy!;
const isPolicy = (m: ServerMessage__Output): boolean => m.message === 'policy';

/** The messages an agent got up to the ack of a batch sent now: the stream keeps order. */
async function messagesUntilAck(agent: TestAgent, sequence: number): Promise<string[]> {
  agent.sendBatch(sequence, [execEvent()]);
  await agent.ack(sequence);
  return agent.messages.map((m) => m.message ?? '');
}

describe('ingest pushes runtime policies from the policies topic', () => {
  it("sends an agent its tenant's policies right after the welcome, and not another tenant's", async () => {
    const h = await harness();
    await h.write(
      {
        tenant_id: 'city-a',
        id: 'no-shells',
        denied_processes: ['sh'],
        mode: 'POLICY_MODE_PREVENT',
      },
      { tenant_id: 'city-b', id: 'egress', allowed_destinations: [{ cidr: '10.0.0.0/8' }] },
      { tenant_id: 'city-a', id: 'etc', protected_paths: ['/etc'] },
    );
    await h.start();

    const a = h.agent('a1');
    await a.hello(AGENT_IDS.a1);
    const update = policies(await a.next(isPolicy));
    expect(a.messages.map((m) => m.message)).toEqual(['welcome', 'policy']);
    expect(update.policies.map((p) => [p.tenant_id, p.id, p.mode])).toEqual([
      ['city-a', 'etc', 'POLICY_MODE_UNSPECIFIED'],
      ['city-a', 'no-shells', 'POLICY_MODE_PREVENT'],
    ]);
    expect(update.policies[1]!.denied_processes).toEqual(['sh']);
    expect(update.version).toMatch(/^[0-9a-f]{32}$/);

    const b = h.agent('b2');
    await b.hello(AGENT_IDS.b2);
    const other = policies(await b.next(isPolicy));
    expect(other.policies.map((p) => [p.tenant_id, p.id])).toEqual([['city-b', 'egress']]);
    expect(other.version).not.toBe(update.version);

    // Created as a compacted topic would be on the embedded log: nothing deleted by age.
    const meta = JSON.parse(
      await readFile(join(h.dir, 'topics', Topics.policies, 'topic.json'), 'utf8'),
    ) as { retentionMs: number };
    expect(meta.retentionMs).toBe(-1);
  });

  it('sends nothing to an agent that already has the current version, and the change when it comes', async () => {
    const h = await harness();
    await h.write({ tenant_id: 'city-a', id: 'no-shells', denied_processes: ['sh'] });
    await h.start();
    const first = h.agent('a1');
    await first.hello(AGENT_IDS.a1);
    const current = policies(await first.next(isPolicy)).version;

    const upToDate = h.agent('a3');
    await upToDate.hello(AGENT_IDS.a3, current);
    expect(await messagesUntilAck(upToDate, 1)).toEqual(['welcome', 'ack']);

    // An agent without policies, of a tenant without policies, is sent nothing either.
    const none = h.agent('b2');
    await none.hello(AGENT_IDS.b2, '');
    expect(await messagesUntilAck(none, 1)).toEqual(['welcome', 'ack']);

    await h.write({ tenant_id: 'city-a', id: 'etc', protected_paths: ['/etc'] });
    const changed = policies(
      await upToDate.next((m) => isPolicy(m) && m.policy?.version !== current),
    );
    expect(changed.policies.map((p) => p.id)).toEqual(['etc', 'no-shells']);
    expect(h.app!.sessions().find((s) => s.identity.agentId === AGENT_IDS.a3)?.policyVersion).toBe(
      changed.version,
    );
  });

  it('pushes a policy written while an agent is connected, to every agent of its tenant only', async () => {
    const h = await harness();
    await h.start();
    const a = h.agent('a1');
    await a.hello(AGENT_IDS.a1);
    const b = h.agent('b2');
    await b.hello(AGENT_IDS.b2);

    await h.write({
      tenant_id: 'city-a',
      id: 'egress',
      allowed_destinations: [{ cidr: '10.0.0.0/8', port: 443 }],
      pod_labels: { app: 'portal' },
      mode: 'POLICY_MODE_BLOCK',
    });
    const update = policies(await a.next(isPolicy));
    expect(update.policies).toMatchObject([
      {
        id: 'egress',
        tenant_id: 'city-a',
        mode: 'POLICY_MODE_BLOCK',
        pod_labels: { app: 'portal' },
        allowed_destinations: [{ cidr: '10.0.0.0/8', port: 443 }],
      },
    ]);
    // The other tenant's agent saw nothing: its next message after a batch is the batch's ack.
    expect(await messagesUntilAck(b, 1)).toEqual(['welcome', 'ack']);
  });

  it('removes a policy when its tombstone arrives, down to the empty set', async () => {
    const h = await harness();
    await h.write(
      { tenant_id: 'city-a', id: 'p1', denied_processes: ['nc'] },
      { tenant_id: 'city-a', id: 'p2', denied_processes: ['sh'] },
      { tenant_id: 'city-a', id: 'gone', denied_processes: ['x'] },
      // Deleted before ingest started: never sent.
      { tenant_id: 'city-a', id: 'gone', deleted: true },
    );
    await h.start();
    const a = h.agent('a1');
    await a.hello(AGENT_IDS.a1);
    const initial = policies(await a.next(isPolicy));
    expect(initial.policies.map((p) => p.id)).toEqual(['p1', 'p2']);

    await h.write({ tenant_id: 'city-a', id: 'p1', deleted: true });
    const afterOne = policies(
      await a.next((m) => isPolicy(m) && m.policy?.version !== initial.version),
    );
    expect(afterOne.policies.map((p) => p.id)).toEqual(['p2']);
    expect(afterOne.version).toBe(policyVersion(afterOne.policies));

    await h.write({ tenant_id: 'city-a', id: 'p2', deleted: true });
    const empty = policies(await a.next((m) => isPolicy(m) && m.policy?.version === ''));
    expect(empty.policies).toEqual([]);
  });

  it('gives an agent that reconnects with an outdated version the current set', async () => {
    const h = await harness();
    await h.write({ tenant_id: 'city-a', id: 'p1', denied_processes: ['nc'] });
    await h.start();
    const a = h.agent('a1');
    await a.hello(AGENT_IDS.a1, 'some-older-version');
    const update = policies(await a.next(isPolicy));
    expect(update.policies.map((p) => p.id)).toEqual(['p1']);
    // An agent whose set was deleted meanwhile is told to drop it.
    const b = h.agent('b2');
    await b.hello(AGENT_IDS.b2, 'a-version-of-a-deleted-set');
    expect(policies(await b.next(isPolicy))).toEqual({ version: '', policies: [] });
  });

  it('sends no partial set while the topic is not yet read, and the whole set once it is', async () => {
    const h = await harness();
    await h.write({ tenant_id: 'city-a', id: 'p1', denied_processes: ['nc'] });
    // A bus whose policy records arrive only when the test opens the gate.
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const slow: Bus = {
      kind: h.bus.kind,
      ensureTopics: (specs) => h.bus.ensureTopics(specs),
      produce: (topic, records) => h.bus.produce(topic, records),
      offsets: (topic) => h.bus.offsets(topic),
      committed: (group, topic) => h.bus.committed(group, topic),
      close: () => Promise.resolve(),
      consumer(options) {
        const consumer = h.bus.consumer(options);
        return {
          run: (handler) => consumer.run(async (batch) => gate.then(() => handler(batch))),
          commit: (offsets) => consumer.commit(offsets),
          assignment: () => consumer.assignment(),
          close: () => consumer.close(),
        };
      },
    };
    await h.start({ env: { MAMORI_INGEST_POLICY_SYNC_TIMEOUT_MS: '0' }, bus: slow });
    // Should an expectation fail, the follower must still be able to leave its group.
    cleanups.push(() => open());
    const a = h.agent('a1');
    await a.hello(AGENT_IDS.a1, 'what-the-agent-enforces');
    // Not the empty set: the agent keeps enforcing what it has.
    expect(await messagesUntilAck(a, 1)).toEqual(['welcome', 'ack']);
    open();
    const update = policies(await a.next(isPolicy));
    expect(update.policies.map((p) => p.id)).toEqual(['p1']);
  });
});
