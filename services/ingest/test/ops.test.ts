import { createSilentLogger, ErrorCode, MamoriError } from '@mamori/common';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startIngest, type RunningIngest } from '../src/run.js';
import { connectAgent, execEvent, type TestAgent } from '../src/testing/index.js';
import { MemoryBus } from './support/memory-bus.js';

const TOKEN = 'test-token-city-a-node-1';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Harness {
  ingest: RunningIngest;
  bus: MemoryBus;
  ops: string;
  agent(): TestAgent;
}

/** Ingest as `mamori ingest` composes it (with its ops server), on an in-memory bus. */
async function start(): Promise<Harness> {
  const bus = new MemoryBus();
  const ingest = await startIngest(
    {
      MAMORI_INGEST_PORT: '0',
      MAMORI_INGEST_OPS_PORT: '0',
      MAMORI_INGEST_TOKENS: JSON.stringify([{ token: TOKEN, tenant: 'city-a', agentId: 'node-1' }]),
    },
    createSilentLogger(),
    { bus },
  );
  let stopped = false;
  cleanups.push(() => (stopped ? undefined : ingest.stop()));
  expect(ingest.opsPort).toBeGreaterThan(0);
  return {
    ingest: {
      ...ingest,
      stop: async () => {
        stopped = true;
        await ingest.stop();
      },
    },
    bus,
    ops: `http://127.0.0.1:${ingest.opsPort}`,
    agent() {
      const agent = connectAgent(`127.0.0.1:${ingest.port}`, TOKEN);
      cleanups.push(() => agent.close());
      return agent;
    },
  };
}

/** The value of one sample in Prometheus text, or undefined when it is absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('ingest ops endpoints', () => {
  it('is live and ready while serving with a usable bus', async () => {
    const { ops } = await start();
    expect((await fetch(`${ops}/healthz`)).status).toBe(200);
    const ready = await fetch(`${ops}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready' });
  });

  it('is not ready while the bus does not answer, and ready again once it does', async () => {
    const { ops, bus } = await start();
    const offsets = vi
      .spyOn(bus, 'offsets')
      .mockRejectedValue(
        new MamoriError(ErrorCode.BusUnavailable, 'broker unreachable', { retriable: true }),
      );
    const down = await fetch(`${ops}/readyz`);
    expect(down.status).toBe(503);
    expect(((await down.json()) as { reason: string }).reason).toMatch(
      /^bus unusable: .*broker unreachable/,
    );
    offsets.mockRestore();
    expect((await fetch(`${ops}/readyz`)).status).toBe(200);
  });

  it('is not ready once stopping has begun', async () => {
    const { ingest } = await start();
    await ingest.stop();
    expect(await ingest.app.readiness()).toEqual({
      ready: false,
      reason: 'not serving (starting or stopping)',
    });
  });

  it('counts batches by ack status, accepted and rejected events, bytes and connected streams', async () => {
    const { ops, ...ingest } = await start();
    const before = await (await fetch(`${ops}/metrics`)).text();
    expect(sample(before, 'mamori_ingest_connected_streams')).toBe(0);
    expect(sample(before, 'mamori_ingest_events_accepted_total')).toBe(0);
    expect(before).toContain('mamori_ingest_process_cpu_user_seconds_total');

    const agent = ingest.agent();
    await agent.hello('node-1');
    agent.sendBatch(1, [execEvent(), execEvent(), execEvent({ id: '' })]);
    expect(await agent.ack(1)).toMatchObject({ status: 'ACK_STATUS_ACCEPTED', accepted: 2 });
    // Sent again: the agent never saw the first ack.
    agent.sendBatch(1, [execEvent()]);
    await agent.next((message) => message.ack?.status === 'ACK_STATUS_DUPLICATE');

    const after = await (await fetch(`${ops}/metrics`)).text();
    expect(sample(after, 'mamori_ingest_connected_streams')).toBe(1);
    expect(sample(after, 'mamori_ingest_batches_total{status="accepted"}')).toBe(1);
    expect(sample(after, 'mamori_ingest_batches_total{status="duplicate"}')).toBe(1);
    expect(sample(after, 'mamori_ingest_events_accepted_total')).toBe(2);
    expect(sample(after, 'mamori_ingest_events_rejected_total')).toBe(1);
    expect(sample(after, 'mamori_ingest_received_bytes_total')).toBeGreaterThan(0);
    expect(sample(after, 'mamori_ingest_batch_ack_duration_seconds_count')).toBe(2);
  });

  it('counts a batch the bus did not take as retry', async () => {
    const { ops, bus, ...ingest } = await start();
    const agent = ingest.agent();
    await agent.hello('node-1');
    bus.failNext = 1;
    agent.sendBatch(1, [execEvent()]);
    expect(await agent.ack(1)).toMatchObject({ status: 'ACK_STATUS_RETRY' });
    const text = await (await fetch(`${ops}/metrics`)).text();
    expect(sample(text, 'mamori_ingest_batches_total{status="retry"}')).toBe(1);
    expect(sample(text, 'mamori_ingest_events_accepted_total')).toBe(0);
  });
});
