import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEmbeddedBus, DEAD_LETTER_HEADERS, type EmbeddedBus } from '@mamori/bus';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { buildApp, readStoreConfig, type StoreApp } from '../src/index.js';
import { captureLogs } from '@mamori/common/testing';
import { committedCount, produceEvents, rowId, testEvent, unique } from './support/events.js';

interface Harness {
  bus: EmbeddedBus;
  topic: string;
  groupId: string;
  /** Ids of the events of each insert. */
  inserted: string[][];
  insertEventRows: ReturnType<typeof vi.fn<(rows: readonly Uint8Array[]) => Promise<void>>>;
  app: StoreApp;
  lines: ReturnType<typeof captureLogs>['lines'];
}

/** The store on a real embedded bus and a fake warehouse that records its inserts. */
async function harness(env: Record<string, string> = {}): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'mamori-store-app-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  const bus = await createEmbeddedBus({ dir, fsync: false });
  onTestFinished(() => bus.close());
  const topic = unique('events');
  const groupId = unique('store');
  await bus.ensureTopics([{ topic, partitions: 2 }]);
  const config = readStoreConfig({
    MAMORI_DATA_DIR: dir,
    MAMORI_TOPIC_EVENTS: topic,
    MAMORI_STORE_GROUP: groupId,
    MAMORI_STORE_RETRY_INITIAL_MS: '5',
    MAMORI_STORE_RETRY_MAX_MS: '20',
    ...env,
  });
  const inserted: string[][] = [];
  const insertEventRows = vi.fn((rows: readonly Uint8Array[]) => {
    inserted.push(rows.map(rowId));
    return Promise.resolve();
  });
  const { logger, lines } = captureLogs();
  const app = buildApp({
    config,
    bus,
    warehouse: {
      insertEventRows,
      insertAlerts: () => Promise.resolve(),
      upsertAgents: () => Promise.resolve(),
    },
    logger,
  });
  onTestFinished(() => app.stop(0));
  return { bus, topic, groupId, inserted, insertEventRows, app, lines };
}

describe('store app', () => {
  it.each(['false', 'true'])(
    'sends undecodable records to dead letters and stores and commits the rest (encoder thread: %s)',
    async (encoderThread) => {
      const h = await harness({
        MAMORI_STORE_FLUSH_MS: '20',
        MAMORI_STORE_ENCODER_THREAD: encoderThread,
      });
      const good = [testEvent('t1'), testEvent('t1')];
      await produceEvents(h.bus, h.topic, [good[0]!]);
      await h.bus.produce(h.topic, [
        { key: Buffer.from('t1/node-1'), value: Buffer.from([0xff, 0xff, 0xff]) },
      ]);
      // Decodes, but ingest would never have let it through without a tenant.
      await produceEvents(h.bus, h.topic, [testEvent('', { id: 'no-tenant' })]);
      await produceEvents(h.bus, h.topic, [good[1]!]);
      await h.app.start();

      await vi.waitFor(() => expect(h.inserted.flat()).toHaveLength(2), { timeout: 5000 });
      expect(h.inserted.flat()).toEqual(good.map((event) => event.id));
      await vi.waitFor(
        async () => expect(await committedCount(h.bus, h.groupId, h.topic)).toBe(4),
        {
          timeout: 5000,
        },
      );
      const partitions = await h.bus.offsets(`${h.topic}.dlq`);
      const letters = (
        await Promise.all(partitions.map((p) => h.bus.read(`${h.topic}.dlq`, p.partition, 0)))
      ).flat();
      expect(letters).toHaveLength(2);
      expect(letters.map((letter) => letter.headers[DEAD_LETTER_HEADERS.topic])).toEqual([
        h.topic,
        h.topic,
      ]);
      expect(letters.map((letter) => letter.headers[DEAD_LETTER_HEADERS.groupId])).toEqual([
        h.groupId,
        h.groupId,
      ]);
      expect(
        letters.some(
          (letter) => letter.headers[DEAD_LETTER_HEADERS.errorCode] === 'MAMORI_BUS_DECODE',
        ),
      ).toBe(true);
    },
  );

  it('commits nothing while the warehouse fails, and stores everything once it is back', async () => {
    const h = await harness({ MAMORI_STORE_FLUSH_MS: '10' });
    let down = true;
    h.insertEventRows.mockImplementation((rows) => {
      if (down) return Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:8123'));
      h.inserted.push(rows.map(rowId));
      return Promise.resolve();
    });
    const events = [testEvent('t1'), testEvent('t1'), testEvent('t1')];
    await produceEvents(h.bus, h.topic, events);
    await h.app.start();
    await vi.waitFor(() => expect(h.insertEventRows.mock.calls.length).toBeGreaterThanOrEqual(3), {
      timeout: 5000,
    });
    expect(await h.bus.committed(h.groupId, h.topic)).toEqual([]);
    expect(h.lines.filter((line) => line.msg.startsWith('insert failed')).length).toBeGreaterThan(
      1,
    );
    down = false;
    await vi.waitFor(async () => expect(await committedCount(h.bus, h.groupId, h.topic)).toBe(3), {
      timeout: 5000,
    });
    expect(h.inserted.flat().sort()).toEqual(events.map((event) => event.id).sort());
  });

  it('flushes and commits what is buffered when stopped', async () => {
    // Neither bound nor timer would flush within this test.
    const h = await harness({ MAMORI_STORE_FLUSH_MS: '600000' });
    await produceEvents(h.bus, h.topic, [testEvent('t1'), testEvent('t1'), testEvent('t1')]);
    await h.app.start();
    await vi.waitFor(() => expect(h.app.pending()).toBe(3), { timeout: 5000 });
    expect(h.inserted).toEqual([]);
    await h.app.stop();
    expect(h.inserted.flat()).toHaveLength(3);
    expect(await committedCount(h.bus, h.groupId, h.topic)).toBe(3);
  });

  it('stopping while the warehouse is down gives up after the grace period without committing', async () => {
    const h = await harness({ MAMORI_STORE_FLUSH_MS: '600000' });
    h.insertEventRows.mockImplementation(() => Promise.reject(new Error('ClickHouse is down')));
    await produceEvents(h.bus, h.topic, [testEvent('t1'), testEvent('t1')]);
    await h.app.start();
    await vi.waitFor(() => expect(h.app.pending()).toBe(2), { timeout: 5000 });
    await h.app.stop(100);
    expect(h.insertEventRows).toHaveBeenCalled();
    expect(await h.bus.committed(h.groupId, h.topic)).toEqual([]);
  });
});
