import type { TopicPartitionOffset } from '@mamori/bus';
import { ErrorCode, MamoriError } from '@mamori/common';
import { describe, expect, it, vi } from 'vitest';
import { createBatcher, type BatcherOptions, type BatchChunk } from '../../src/pipeline/batcher.js';
import { captureLogs } from '@mamori/common/testing';

const TOPIC = 'mamori.events.v1';

function chunk(
  partition: number,
  nextOffset: number,
  values: string[],
  bytes = 10,
): BatchChunk<string> {
  return { topic: TOPIC, partition, nextOffset, values, bytes };
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** A batcher over a fake warehouse and consumer that record what they were given. */
function setup(overrides: Partial<BatcherOptions<string>> = {}) {
  const inserted: string[][] = [];
  const committed: TopicPartitionOffset[][] = [];
  const { logger, lines } = captureLogs();
  const options: BatcherOptions<string> = {
    insert: vi.fn((values: string[]) => {
      inserted.push([...values]);
      return Promise.resolve();
    }),
    commit: vi.fn((offsets: TopicPartitionOffset[]) => {
      committed.push(offsets);
      return Promise.resolve();
    }),
    maxRecords: 1000,
    maxBytes: 1_000_000,
    flushMs: 60_000,
    retry: { initialMs: 1, maxMs: 5 },
    logger,
    ...overrides,
  };
  return { batcher: createBatcher(options), options, inserted, committed, lines };
}

describe('batcher', () => {
  it('does not commit an offset ClickHouse never acknowledged', async () => {
    const ack = deferred();
    const events: string[] = [];
    const { batcher, committed } = setup({
      maxRecords: 2,
      insert: () => {
        events.push('insert');
        return ack.promise.then(() => void events.push('acknowledged'));
      },
      commit: (offsets) => {
        events.push('commit');
        committed.push(offsets);
        return Promise.resolve();
      },
    });
    await batcher.add(chunk(0, 8, ['a', 'b']));
    await new Promise((resolve) => setTimeout(resolve, 20));
    // The insert runs; nothing is committed while ClickHouse has not acknowledged it.
    expect(events).toEqual(['insert']);
    expect(committed).toEqual([]);
    ack.resolve();
    await batcher.flush();
    expect(events).toEqual(['insert', 'acknowledged', 'commit']);
    expect(committed).toEqual([[{ topic: TOPIC, partition: 0, offset: 8 }]]);
  });

  it('retries a failing insert with backoff and commits nothing until it succeeds', async () => {
    let calls = 0;
    const commitsDuringFailures: number[] = [];
    const { batcher, committed, lines, options } = setup({
      maxRecords: 1,
      insert: () => {
        calls++;
        commitsDuringFailures.push(committed.length);
        if (calls <= 3) return Promise.reject(new Error('ClickHouse is unavailable'));
        return Promise.resolve();
      },
    });
    await batcher.add(chunk(3, 42, ['a']));
    await batcher.flush();
    expect(calls).toBe(4);
    expect(commitsDuringFailures).toEqual([0, 0, 0, 0]);
    expect(committed).toEqual([[{ topic: TOPIC, partition: 3, offset: 42 }]]);
    const failures = lines.filter((line) => line.msg.startsWith('insert failed'));
    expect(failures.map((line) => line['attempt'])).toEqual([1, 2, 3]);
    for (const line of failures) {
      expect(line['delayMs']).toEqual(expect.any(Number));
      expect(line['delayMs']).toBeLessThanOrEqual(options.retry.maxMs!);
      expect((line['err'] as { message: string }).message).toBe('ClickHouse is unavailable');
    }
  });

  it('flushes when the count bound is reached, not before', async () => {
    const { batcher, inserted, committed } = setup({ maxRecords: 3 });
    await batcher.add(chunk(0, 2, ['a', 'b']));
    expect(inserted).toEqual([]);
    expect(batcher.pending()).toBe(2);
    await batcher.add(chunk(0, 3, ['c']));
    expect(inserted).toEqual([['a', 'b', 'c']]);
    await batcher.flush();
    expect(committed).toEqual([[{ topic: TOPIC, partition: 0, offset: 3 }]]);
    expect(batcher.pending()).toBe(0);
  });

  it('holds the consumer while maxInFlight inserts run, and commits in flush order', async () => {
    const acks = [deferred(), deferred(), deferred()];
    let call = 0;
    const { batcher, committed } = setup({
      maxRecords: 1,
      maxInFlight: 2,
      insert: () => acks[call++]!.promise,
    });
    await batcher.add(chunk(0, 1, ['a']));
    await batcher.add(chunk(0, 2, ['b']));
    // Two inserts run: the third full batch waits for a slot, and so does its consumer.
    let third = false;
    const adding = batcher.add(chunk(0, 3, ['c'])).then(() => (third = true));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(call).toBe(2);
    expect(third).toBe(false);
    // The second insert finishes first: it takes no commit past the first, still running.
    acks[1]!.resolve();
    await adding;
    expect(call).toBe(3);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(committed).toEqual([]);
    acks[0]!.resolve();
    acks[2]!.resolve();
    await batcher.flush();
    expect(committed.map((offsets) => offsets[0]!.offset)).toEqual([1, 2, 3]);
  });

  it('flushes when the byte bound is reached', async () => {
    const { batcher, inserted } = setup({ maxBytes: 100 });
    await batcher.add(chunk(0, 1, ['a'], 60));
    expect(inserted).toEqual([]);
    await batcher.add(chunk(1, 1, ['b'], 60));
    expect(inserted).toEqual([['a', 'b']]);
  });

  it('flushes a partial batch once it is flushMs old', async () => {
    const { batcher, inserted, committed } = setup({ flushMs: 30 });
    await batcher.add(chunk(0, 5, ['a']));
    expect(inserted).toEqual([]);
    await vi.waitFor(() => expect(committed).toHaveLength(1), { timeout: 2000 });
    expect(inserted).toEqual([['a']]);
  });

  it('commits the next offset of every partition a batch covers', async () => {
    const { batcher, committed } = setup();
    await batcher.add(chunk(0, 10, ['a']));
    await batcher.add(chunk(1, 7, ['b']));
    await batcher.add(chunk(0, 12, ['c']));
    await batcher.flush();
    expect(committed).toEqual([
      [
        { topic: TOPIC, partition: 0, offset: 12 },
        { topic: TOPIC, partition: 1, offset: 7 },
      ],
    ]);
  });

  it('commits a batch whose records all went to dead letters without inserting', async () => {
    const { batcher, options, committed } = setup();
    await batcher.add(chunk(0, 4, []));
    await batcher.flush();
    expect(options.insert).not.toHaveBeenCalled();
    expect(committed).toEqual([[{ topic: TOPIC, partition: 0, offset: 4 }]]);
  });

  it('commits in order: a later batch waits for an earlier one still retrying', async () => {
    let failing = true;
    const { batcher, committed } = setup({
      retry: { initialMs: 20, maxMs: 20 },
      insert: () =>
        failing ? Promise.reject(new Error('ClickHouse is unavailable')) : Promise.resolve(),
    });
    await batcher.add(chunk(0, 1, ['a']));
    const first = batcher.flush();
    await batcher.add(chunk(0, 2, ['b']));
    const second = batcher.flush();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(committed).toEqual([]);
    failing = false;
    await Promise.all([first, second]);
    expect(committed.map((offsets) => offsets[0]!.offset)).toEqual([1, 2]);
  });

  it('gives up uncommitted when stopped while ClickHouse is down, and commits no later batch', async () => {
    const aborter = new AbortController();
    const { batcher, committed, options } = setup({
      signal: aborter.signal,
      retry: { initialMs: 10, maxMs: 10 },
      insert: vi.fn(() => Promise.reject(new Error('ClickHouse is unavailable'))),
    });
    await batcher.add(chunk(0, 1, ['a']));
    const first = batcher.flush();
    await new Promise((resolve) => setTimeout(resolve, 30));
    aborter.abort();
    await first;
    // A later batch must not commit past the records given up.
    vi.mocked(options.insert).mockImplementation(() => Promise.resolve());
    await batcher.add(chunk(0, 2, ['b']));
    await batcher.flush();
    expect(committed).toEqual([]);
  });

  it('commits the other partitions when one of them is no longer assigned', async () => {
    const { batcher, committed, lines } = setup({
      commit: (offsets) => {
        if (offsets.some((offset) => offset.partition === 1)) {
          return Promise.reject(
            new MamoriError(ErrorCode.BusGroup, 'the partition is not assigned to this consumer'),
          );
        }
        committed.push(offsets);
        return Promise.resolve();
      },
    });
    await batcher.add(chunk(0, 3, ['a']));
    await batcher.add(chunk(1, 3, ['b']));
    await batcher.add(chunk(2, 3, ['c']));
    await batcher.flush();
    expect(committed).toEqual([
      [{ topic: TOPIC, partition: 0, offset: 3 }],
      [{ topic: TOPIC, partition: 2, offset: 3 }],
    ]);
    expect(
      lines.some((line) => line.msg === 'could not commit the offset of an inserted batch'),
    ).toBe(true);
  });
});
