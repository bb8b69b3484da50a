import * as grpc from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { afterEach, describe, expect, it } from 'vitest';
import { createSilentLogger, ErrorCode, MamoriError } from '@mamori/common';
import {
  createEventCodec,
  EventHeaders,
  MAX_POLICY_UPDATE_BYTES,
  protoType,
  Topics,
} from '@mamori/proto';
import { buildApp, type IngestApp } from '../../src/app.js';
import { readIngestConfig } from '../../src/config.js';
import { connectAgent, execEvent, type TestAgent } from '../../src/testing/index.js';
import { MemoryBus } from '../support/memory-bus.js';

const TOKEN = 'test-token-city-a-node-1';
const TOKENS = JSON.stringify([
  { token: TOKEN, tenant: 'city-a', agentId: 'node-1' },
  { token: 'test-token-city-b-node-2', tenant: 'city-b', agentId: 'node-2' },
]);

interface Harness {
  app: IngestApp;
  bus: MemoryBus;
  address: string;
  agent(token?: string, options?: grpc.ChannelOptions): TestAgent;
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startIngest(
  env: Record<string, string> = {},
  policies?: Parameters<typeof buildApp>[0]['policies'],
): Promise<Harness> {
  const config = readIngestConfig({
    MAMORI_INGEST_PORT: '0',
    MAMORI_INGEST_TOKENS: TOKENS,
    ...env,
  });
  const bus = new MemoryBus();
  const app = buildApp({
    config,
    bus,
    logger: createSilentLogger(),
    ...(policies ? { policies } : {}),
  });
  const { port } = await app.start();
  cleanups.push(() => app.stop(1000));
  const address = `127.0.0.1:${port}`;
  return {
    app,
    bus,
    address,
    agent(token = TOKEN, options = {}) {
      const agent = connectAgent(address, token, options);
      cleanups.push(() => agent.close());
      return agent;
    },
  };
}

describe('ingest Connect stream', () => {
  it('records an agent as connected on its hello, by heartbeat, and as disconnected when its stream ends', async () => {
    const ingest = await startIngest({ MAMORI_INGEST_AGENT_HEARTBEAT_MS: '100' });
    const type = protoType('mamori.v1.AgentStatus');
    const statuses = () =>
      ingest.bus.records(Topics.agents).map((record) => ({
        key: record.key?.toString(),
        ...(type.toObject(type.decode(record.value), { longs: Number, defaults: true }) as {
          tenant_id: string;
          agent_id: string;
          agent_version: string;
          connected: boolean;
          seen_unix_micros: number;
        }),
      }));
    const agent = ingest.agent();
    await agent.hello('node-1');
    await expect.poll(() => statuses().length).toBeGreaterThanOrEqual(2);
    const [first, heartbeat] = statuses();
    expect(first).toMatchObject({
      key: 'city-a/node-1',
      tenant_id: 'city-a',
      agent_id: 'node-1',
      connected: true,
    });
    expect(heartbeat).toMatchObject({ agent_id: 'node-1', connected: true });
    expect(heartbeat!.seen_unix_micros).toBeGreaterThan(first!.seen_unix_micros);
    agent.close();
    await expect.poll(() => statuses().at(-1)?.connected).toBe(false);
    // Nobody else was recorded: the other credential never connected.
    expect(new Set(statuses().map((s) => s.key))).toEqual(new Set(['city-a/node-1']));
  });

  it('refuses a stream without a known bearer token', async () => {
    const ingest = await startIngest();
    const status = await ingest.agent('not-a-configured-token').status;
    expect(status.code).toBe(grpc.status.UNAUTHENTICATED);
    expect((await connectAgentWithoutToken(ingest.address)).code).toBe(grpc.status.UNAUTHENTICATED);
  });

  it('stamps the tenant and agent from the credential, never from the payload', async () => {
    const ingest = await startIngest();
    const agent = ingest.agent();
    const welcome = await agent.hello('node-1');
    expect(welcome.welcome).toMatchObject({
      tenant_id: 'city-a',
      agent_id: 'node-1',
      last_sequence: 0,
    });
    agent.sendBatch(1, [execEvent({ tenant_id: 'city-b', agent_id: 'someone-else' })]);
    const ack = await agent.ack(1);
    expect(ack).toMatchObject({ status: 'ACK_STATUS_ACCEPTED', accepted: 1 });
    const [record] = ingest.bus.records(Topics.events);
    const event = createEventCodec().decode(record!.value);
    expect(event.tenant_id).toBe('city-a');
    expect(event.agent_id).toBe('node-1');
    expect(event.received_unix_micros).toBeGreaterThan(0);
    expect(record!.key?.toString()).toBe('city-a/node-1');
    expect(record!.headers).toEqual({ [EventHeaders.kind]: 'process_exec' });
  });

  it('refuses a hello that claims another agent id', async () => {
    const ingest = await startIngest();
    const agent = ingest.agent();
    agent.send({ hello: { agent_id: 'node-2' } });
    const status = await agent.status;
    expect(status.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(status.details).toContain('hello.agent_id');
  });

  it("lets a fleet credential's agents name themselves, in the credential's tenant only", async () => {
    const fleet = 'test-token-city-a-fleet';
    const ingest = await startIngest({
      MAMORI_INGEST_TOKENS: JSON.stringify([{ token: fleet, tenant: 'city-a', agentId: '*' }]),
    });
    const agent = ingest.agent(fleet);
    const welcome = await agent.hello('worker-7');
    expect(welcome.welcome).toMatchObject({ tenant_id: 'city-a', agent_id: 'worker-7' });
    agent.sendBatch(1, [execEvent({ tenant_id: 'city-b', agent_id: 'node-1' })]);
    expect((await agent.ack(1)).status).toBe('ACK_STATUS_ACCEPTED');
    const [record] = ingest.bus.records(Topics.events);
    const event = createEventCodec().decode(record!.value);
    expect([event.tenant_id, event.agent_id]).toEqual(['city-a', 'worker-7']);

    const nameless = ingest.agent(fleet);
    nameless.send({ hello: { agent_id: '../x' } });
    const status = await nameless.status;
    expect(status.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(status.details).toContain('fleet credential');
  });

  it('refuses a batch before the hello', async () => {
    const ingest = await startIngest();
    const agent = ingest.agent();
    agent.sendBatch(1, [execEvent()]);
    expect((await agent.status).code).toBe(grpc.status.FAILED_PRECONDITION);
  });

  it('rejects a bad batch with a reason naming the field, and the stream goes on', async () => {
    const ingest = await startIngest();
    const agent = ingest.agent();
    await agent.hello();
    agent.sendBatch(0, [execEvent()]);
    const rejected = await agent.ack(0);
    expect(rejected.status).toBe('ACK_STATUS_REJECTED');
    expect(rejected.reason).toContain('sequence');
    agent.sendBatch(1, [execEvent(), execEvent({ observed_unix_micros: 0 }), execEvent()]);
    const partial = await agent.ack(1);
    expect(partial).toMatchObject({ status: 'ACK_STATUS_ACCEPTED', accepted: 2 });
    expect(partial.rejections).toEqual([
      expect.objectContaining({ index: 1, field: 'events[1].observed_unix_micros' }),
    ]);
    expect(ingest.bus.records(Topics.events)).toHaveLength(2);
    const [refused] = ingest.bus.records(Topics.eventsRejected);
    expect(refused?.headers?.[EventHeaders.rejectField]).toBe('events[1].observed_unix_micros');
    agent.sendBatch(2, [execEvent()]);
    expect((await agent.ack(2)).status).toBe('ACK_STATUS_ACCEPTED');
  });

  it('acknowledges a batch only after the bus has accepted it', async () => {
    const ingest = await startIngest();
    const agent = ingest.agent();
    await agent.hello();
    ingest.bus.hold();
    agent.sendBatch(1, [execEvent()]);
    await expect.poll(() => ingest.bus.calls).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(agent.messages.filter((m) => m.message === 'ack')).toHaveLength(0);
    ingest.bus.release();
    expect((await agent.ack(1)).status).toBe('ACK_STATUS_ACCEPTED');
  });

  it('stops reading from a stream while the bus is slow instead of buffering without bound', async () => {
    const ingest = await startIngest({ MAMORI_INGEST_MAX_INFLIGHT_BATCHES: '2' });
    const agent = ingest.agent();
    await agent.hello();
    ingest.bus.hold();
    const batches = 300;
    for (let seq = 1; seq <= batches; seq++)
      agent.sendBatch(
        seq,
        Array.from({ length: 50 }, () => execEvent()),
      );
    await expect.poll(() => ingest.bus.calls).toBe(2);
    await new Promise((resolve) => setTimeout(resolve, 300));
    // Two batches are being written; nothing more was taken off the stream.
    expect(ingest.bus.calls).toBe(2);
    ingest.bus.release();
    expect((await agent.ack(batches, 30_000)).status).toBe('ACK_STATUS_ACCEPTED');
    expect(ingest.bus.records(Topics.events)).toHaveLength(batches * 50);
  });

  it('stops reading from every stream while too many events overall are unacknowledged', async () => {
    const ingest = await startIngest({ MAMORI_INGEST_MAX_INFLIGHT_EVENTS: '60' });
    const first = ingest.agent();
    const second = ingest.agent('test-token-city-b-node-2');
    await first.hello();
    await second.hello();
    ingest.bus.hold();
    for (let seq = 1; seq <= 20; seq++) {
      first.sendBatch(
        seq,
        Array.from({ length: 50 }, () => execEvent()),
      );
      second.sendBatch(
        seq,
        Array.from({ length: 50 }, () => execEvent()),
      );
    }
    await expect.poll(() => ingest.bus.calls).toBeGreaterThanOrEqual(2);
    await new Promise((resolve) => setTimeout(resolve, 300));
    // 2 × 50 events are in flight, over the budget of 60: neither stream is read further,
    // although each would be allowed 8 batches of its own.
    expect(ingest.bus.calls).toBe(2);
    ingest.bus.release();
    expect((await first.ack(20, 30_000)).status).toBe('ACK_STATUS_ACCEPTED');
    expect((await second.ack(20, 30_000)).status).toBe('ACK_STATUS_ACCEPTED');
    expect(ingest.bus.records(Topics.events)).toHaveLength(2 * 20 * 50);
  });

  it('answers RETRY when the bus fails, and accepts the same batch when it is resent', async () => {
    const ingest = await startIngest();
    const agent = ingest.agent();
    await agent.hello();
    ingest.bus.failNext = 1;
    const events = [execEvent(), execEvent()];
    agent.sendBatch(1, events);
    const retry = await agent.ack(1);
    expect(retry).toMatchObject({ status: 'ACK_STATUS_RETRY', accepted: 0 });
    expect(retry.retry_after_ms).toBeGreaterThan(0);
    agent.messages.length = 0;
    agent.sendBatch(1, events);
    expect((await agent.ack(1)).status).toBe('ACK_STATUS_ACCEPTED');
    expect(ingest.bus.records(Topics.events)).toHaveLength(2);
  });

  it('rejects a batch the bus finds too large, since resending it cannot succeed', async () => {
    const ingest = await startIngest();
    const agent = ingest.agent();
    await agent.hello();
    ingest.bus.failNext = 1;
    ingest.bus.failWith = () => new MamoriError(ErrorCode.TooLarge, 'too large');
    agent.sendBatch(1, [execEvent()]);
    expect(await agent.ack(1)).toMatchObject({ status: 'ACK_STATUS_REJECTED', accepted: 0 });
  });

  it('does not write a batch twice when it is resent after a reconnect', async () => {
    const ingest = await startIngest();
    const events = [execEvent(), execEvent(), execEvent()];
    const first = ingest.agent();
    await first.hello();
    first.sendBatch(1, events);
    await first.ack(1);
    first.cancel();

    const second = ingest.agent();
    const welcome = await second.hello();
    expect(welcome.welcome?.last_sequence).toBe(1);
    second.sendBatch(1, events);
    expect((await second.ack(1)).status).toBe('ACK_STATUS_DUPLICATE');
    second.sendBatch(2, [execEvent()]);
    expect((await second.ack(2)).status).toBe('ACK_STATUS_ACCEPTED');
    expect(ingest.bus.records(Topics.events)).toHaveLength(4);
  });

  it('refuses a second instance of a connected agent id, keeps the first, and takes the second once the first is gone', async () => {
    const ingest = await startIngest();
    const first = ingest.agent();
    await first.hello('', '', 'instance-a');
    first.sendBatch(1, [execEvent()]);
    expect((await first.ack(1)).status).toBe('ACK_STATUS_ACCEPTED');

    // Another agent configured with the same id: its batch 1 would be taken for a duplicate.
    const second = ingest.agent();
    second.hello('', '', 'instance-b').catch(() => undefined);
    const refused = await second.status;
    expect(refused.code).toBe(grpc.status.ALREADY_EXISTS);
    expect(refused.details).toMatch(
      /agent "node-1" is connected from another instance since \d{4}-/,
    );
    expect(
      await ingest.app.metrics.registry.getSingleMetricAsString(
        'mamori_ingest_agent_id_conflicts_total',
      ),
    ).toMatch(/ 1$/m);

    // The first goes on as if nothing happened.
    first.sendBatch(2, [execEvent()]);
    expect((await first.ack(2)).status).toBe('ACK_STATUS_ACCEPTED');
    expect(ingest.app.sessions().map((s) => s.instanceId)).toEqual(['instance-a']);
    first.close();
    await expect.poll(() => ingest.app.sessions().length).toBe(0);

    // With the first gone, the second is welcome. Its batches are numbered by its own spool,
    // apart from the first's: its batch 1 is new, not a duplicate of the first's.
    const again = ingest.agent();
    expect((await again.hello('', '', 'instance-b')).welcome?.last_sequence).toBe(0);
    again.sendBatch(1, [execEvent()]);
    expect((await again.ack(1)).status).toBe('ACK_STATUS_ACCEPTED');
    expect(ingest.bus.records(Topics.events)).toHaveLength(3);
  });

  it('lets a new stream of the same instance replace an older one that is still open', async () => {
    const ingest = await startIngest();
    const events = [execEvent(), execEvent()];
    const stale = ingest.agent();
    await stale.hello('', '', 'instance-a');
    ingest.bus.hold();
    stale.sendBatch(1, events);
    await expect.poll(() => ingest.bus.calls).toBe(1);

    // The agent reconnected before ingest noticed its old stream was gone.
    const fresh = ingest.agent();
    expect((await fresh.hello('', '', 'instance-a')).welcome).toBeDefined();
    const ended = await stale.status;
    expect(ended.code).toBe(grpc.status.ABORTED);
    expect(ended.details).toMatch(/replaced by a newer stream/);
    ingest.bus.release();
    // It resends what it saw no ack for: written once.
    fresh.sendBatch(1, events);
    expect((await fresh.ack(1)).status).toBe('ACK_STATUS_DUPLICATE');
    expect(ingest.bus.records(Topics.events)).toHaveLength(2);
    expect(ingest.app.sessions()).toHaveLength(1);

    // Agents that do not name their instance: the newest stream replaces the older one too.
    const quiet = ingest.agent();
    await quiet.hello();
    expect((await fresh.status).code).toBe(grpc.status.ABORTED);
    expect(ingest.app.sessions()).toHaveLength(1);
  });

  it('caps the message size', async () => {
    const ingest = await startIngest({ MAMORI_INGEST_MAX_MESSAGE_BYTES: String(64 * 1024) });
    const agent = ingest.agent();
    await agent.hello();
    agent.sendBatch(1, [execEvent({ labels: { blob: 'x'.repeat(100_000) } })]);
    expect((await agent.status).code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(ingest.bus.records(Topics.events)).toHaveLength(0);
  });

  it('pushes the policy set on hello when the agent runs another version, and on demand', async () => {
    const policy = {
      version: 'v2',
      policies: [
        { id: 'p1', name: 'miners', mode: 'POLICY_MODE_PREVENT' as const, rules: '- rule: x' },
      ],
    };
    const ingest = await startIngest({}, (identity) =>
      identity.tenantId === 'city-a' ? policy : undefined,
    );
    const agent = ingest.agent();
    await agent.hello('', 'v1');
    const pushed = await agent.next((m) => m.message === 'policy');
    expect(pushed.policy).toMatchObject({
      version: 'v2',
      policies: [{ id: 'p1', mode: 'POLICY_MODE_PREVENT' }],
    });
    expect(
      ingest.app.pushPolicy(
        { tenantId: 'city-a', agentId: 'node-1' },
        { version: 'v3', policies: [] },
      ),
    ).toBe(1);
    await agent.next((m) => m.message === 'policy' && m.policy?.version === 'v3');
  });

  it('pushes a policy set of several MiB, and keeps the stream when a set is over the push limit', async () => {
    // OpenAPI documents of up to 1 MiB each make large sets: gRPC's default 4 MiB is too little.
    const big = (version: string, mib: number) => ({
      version,
      policies: [{ id: 'p1', name: 'api', rules: `# ${'x'.repeat(mib * (1 << 20))}` }],
    });
    let current = big('v6', 6);
    const ingest = await startIngest({}, () => current);
    const agent = ingest.agent(TOKEN, {
      'grpc.max_receive_message_length': MAX_POLICY_UPDATE_BYTES + 64 * 1024,
    });
    await agent.hello();
    const pushed = await agent.next((m) => m.message === 'policy');
    expect(pushed.policy?.version).toBe('v6');
    expect(pushed.policy?.policies[0]?.rules).toHaveLength(6 * (1 << 20) + 2);

    // Over the limit: not sent (the agent keeps what it has), and the stream goes on.
    current = big('v-huge', 65);
    expect(ingest.app.pushPolicy({ tenantId: 'city-a', agentId: 'node-1' }, current)).toBe(0);
    agent.sendBatch(1, [execEvent()]);
    expect((await agent.ack(1)).status).toBe('ACK_STATUS_ACCEPTED');
    expect(agent.messages.some((m) => m.policy?.version === 'v-huge')).toBe(false);
    expect(ingest.app.sessions()[0]?.policyVersion).toBe('v6');
  });

  it('sends commands to the agent they are for, and only to it', async () => {
    const ingest = await startIngest();
    const target = ingest.agent();
    const other = ingest.agent('test-token-city-b-node-2');
    await target.hello();
    await other.hello();
    const sent = ingest.app.sendCommand(
      { tenantId: 'city-a', agentId: 'node-1' },
      { id: 'cmd-1', kill_process: { pid: 4242, start_unix_micros: 1, reason: 'miner' } },
    );
    expect(sent).toBe(1);
    const command = await target.next((m) => m.message === 'command');
    expect(command.command).toMatchObject({
      id: 'cmd-1',
      action: 'kill_process',
      kill_process: { pid: 4242 },
    });
    target.send({ command_result: { command_id: 'cmd-1', ok: true } });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(other.messages.some((m) => m.message === 'command')).toBe(false);
    // The stream goes on after a command result.
    target.sendBatch(1, [execEvent()]);
    expect((await target.ack(1)).status).toBe('ACK_STATUS_ACCEPTED');
  });

  it('reports SERVING through the gRPC health service', async () => {
    const ingest = await startIngest();
    const HealthClient = grpc.makeGenericClientConstructor(healthService, 'Health');
    const client = new HealthClient(ingest.address, grpc.credentials.createInsecure());
    cleanups.push(() => client.close());
    const response = await new Promise<{ status: unknown }>((resolve, reject) =>
      client.makeUnaryRequest(
        healthService.Check!.path,
        healthService.Check!.requestSerialize,
        healthService.Check!.responseDeserialize as (bytes: Buffer) => { status: unknown },
        { service: 'mamori.v1.DefenderService' },
        (err, res) => (err ? reject(err) : resolve(res!)),
      ),
    );
    expect(response.status).toBe('SERVING');
  });
});

async function connectAgentWithoutToken(address: string): Promise<grpc.StatusObject> {
  const agent = connectAgent(address, undefined);
  cleanups.push(() => agent.close());
  return agent.status;
}
