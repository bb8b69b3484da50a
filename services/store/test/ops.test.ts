import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEmbeddedBus, type EmbeddedBus } from '@mamori/bus';
import { createSilentLogger, startOpsServer } from '@mamori/common';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { buildApp, readStoreConfig, type StoreApp } from '../src/index.js';
import { produceEvents, testEvent, unique } from './support/events.js';

interface Harness {
  bus: EmbeddedBus;
  topic: string;
  app: StoreApp;
  /** Base URL of the store's ops endpoints. */
  ops: string;
  /** While true, every insert of events fails as if ClickHouse were down. */
  setDown(down: boolean): void;
}

/** The store on a real embedded bus and a fake warehouse, with its ops server on a free port. */
async function harness(): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'mamori-store-ops-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  const bus = await createEmbeddedBus({ dir, fsync: false });
  onTestFinished(() => bus.close());
  const topic = unique('events');
  await bus.ensureTopics([{ topic, partitions: 2 }]);
  const config = readStoreConfig({
    MAMORI_DATA_DIR: dir,
    MAMORI_TOPIC_EVENTS: topic,
    MAMORI_STORE_GROUP: unique('store'),
    MAMORI_STORE_FLUSH_MS: '10',
    MAMORI_STORE_RETRY_INITIAL_MS: '5',
    MAMORI_STORE_RETRY_MAX_MS: '20',
    MAMORI_STORE_OPS_PORT: '0',
  });
  let down = false;
  const warehouse = {
    insertEventRows: () =>
      down ? Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:8123')) : Promise.resolve(),
    insertAlerts: () => Promise.resolve(),
    upsertAgents: () => Promise.resolve(),
  };
  const app = buildApp({ config, bus, warehouse, logger: createSilentLogger() });
  onTestFinished(() => app.stop(0));
  const server = await startOpsServer({
    ...config.ops,
    ready: () => app.readiness(),
    metrics: app.metrics.registry,
    logger: createSilentLogger(),
  });
  onTestFinished(() => server.close());
  return {
    bus,
    topic,
    app,
    ops: `http://127.0.0.1:${server.port}`,
    setDown: (value) => (down = value),
  };
}

async function readyz(ops: string): Promise<{ status: number; body: Record<string, string> }> {
  const response = await fetch(`${ops}/readyz`);
  return { status: response.status, body: (await response.json()) as Record<string, string> };
}

/** The value of one sample in Prometheus text, or undefined when it is absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('store ops endpoints', () => {
  it('is live but not ready before it consumes, and ready once it does', async () => {
    const h = await harness();
    expect((await fetch(`${h.ops}/healthz`)).status).toBe(200);
    expect(await readyz(h.ops)).toEqual({
      status: 503,
      body: { status: 'not ready', reason: 'not consuming (starting or stopping)' },
    });
    await h.app.start();
    expect(await readyz(h.ops)).toEqual({ status: 200, body: { status: 'ready' } });
  });

  it('is not ready while inserts fail and retry, and ready again once an insert succeeds', async () => {
    const h = await harness();
    await h.app.start();
    h.setDown(true);
    await produceEvents(h.bus, h.topic, [testEvent('t1'), testEvent('t1')]);
    await vi.waitFor(async () => expect((await readyz(h.ops)).status).toBe(503), {
      timeout: 5000,
    });
    const { body } = await readyz(h.ops);
    expect(body['reason']).toContain('inserts failing, retrying: events:');
    expect(body['reason']).toContain('ECONNREFUSED');

    h.setDown(false);
    await vi.waitFor(async () => expect((await readyz(h.ops)).status).toBe(200), {
      timeout: 5000,
    });
    const text = await (await fetch(`${h.ops}/metrics`)).text();
    expect(sample(text, 'mamori_store_insert_failures_total{stream="events"}')).toBeGreaterThan(0);
    expect(
      sample(text, 'mamori_store_insert_batches_total{stream="events"}'),
    ).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'mamori_store_records_inserted_total{stream="events"}')).toBe(2);
  });

  it('counts inserted records, dead letters and pending records by stream', async () => {
    const h = await harness();
    await produceEvents(h.bus, h.topic, [testEvent('t1'), testEvent('t1'), testEvent('t1')]);
    await h.bus.produce(h.topic, [{ key: null, value: Buffer.from([0xff, 0xff, 0xff]) }]);
    await h.app.start();
    await vi.waitFor(
      async () => {
        const text = await (await fetch(`${h.ops}/metrics`)).text();
        expect(sample(text, 'mamori_store_records_inserted_total{stream="events"}')).toBe(3);
        expect(sample(text, 'mamori_store_dead_letters_total{stream="events"}')).toBe(1);
        // Pending until the batch's offsets are committed, just after the insert.
        expect(sample(text, 'mamori_store_pending_records{stream="events"}')).toBe(0);
      },
      { timeout: 5000 },
    );
    const text = await (await fetch(`${h.ops}/metrics`)).text();
    expect(sample(text, 'mamori_store_insert_duration_seconds_count{stream="events"}')).toBe(
      sample(text, 'mamori_store_insert_batches_total{stream="events"}'),
    );
    expect(text).toContain('mamori_store_process_cpu_user_seconds_total');
  });

  it('is not ready once stopping has begun', async () => {
    const h = await harness();
    await h.app.start();
    await h.app.stop(0);
    expect((await readyz(h.ops)).status).toBe(503);
  });
});
