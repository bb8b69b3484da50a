import type { TopicPartitionOffset } from '@mamori/bus';
import { backoffDelay, sleep, type BackoffOptions, type Logger } from '@mamori/common';

/** What one consumed bus batch adds to the buffer. */
export interface BatchChunk<T> {
  topic: string;
  partition: number;
  /** The partition's next offset once this chunk is stored: last record's offset + 1. */
  nextOffset: number;
  /** Decoded values (records that did not decode went to dead letters and are left out). */
  values: readonly T[];
  /** Encoded size of the chunk's records, for the byte bound. */
  bytes: number;
}

export interface BatcherOptions<T> {
  /** Stores a batch; must be idempotent, since a batch is retried until it succeeds. */
  insert: (values: T[]) => Promise<void>;
  /** Commits offsets; called only after `insert` resolved for every record they cover. */
  commit: (offsets: TopicPartitionOffset[]) => Promise<void>;
  /** Values buffered before a flush. */
  maxRecords: number;
  /** Bytes buffered before a flush. */
  maxBytes: number;
  /** Longest a value waits in the buffer before a flush, in ms. */
  flushMs: number;
  /** Backoff between failed inserts. */
  retry: BackoffOptions;
  /** Aborting stops retrying: what is not inserted yet is never committed. */
  signal?: AbortSignal;
  logger: Logger;
}

/**
 * Buffers decoded records of consumed batches and writes them in batches bounded by count,
 * bytes and time. Offsets are committed only after the insert that covers them resolved.
 */
export interface Batcher<T> {
  /**
   * Adds a consumed batch. Resolves at once, or — when the buffer is full — once it has been
   * inserted and committed, so that a consumer awaiting it fetches nothing more meanwhile.
   */
  add(chunk: BatchChunk<T>): Promise<void>;
  /** Inserts and commits what is buffered (after any flush already running). */
  flush(): Promise<void>;
  /** Values buffered and not yet inserted, including a flush in progress. */
  pending(): number;
}

interface Pending<T> {
  values: T[];
  offsets: Map<string, TopicPartitionOffset>;
  bytes: number;
}

const emptyBuffer = <T>(): Pending<T> => ({ values: [], offsets: new Map(), bytes: 0 });

/**
 * A Batcher. An insert that fails is retried forever with exponential backoff and jitter,
 * holding its offsets uncommitted, until it succeeds or `signal` aborts. Flushes run one at a
 * time in order, so commits of a partition only move forward. Memory holds at most three
 * batches: one being inserted, one queued behind it (by the timer), one filling.
 */
export function createBatcher<T>(options: BatcherOptions<T>): Batcher<T> {
  const { logger: log, signal } = options;
  let buffer = emptyBuffer<T>();
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> | undefined;
  let inFlightValues = 0;
  /**
   * Set when a batch was given up uninserted (stop while ClickHouse is down): no later batch
   * may commit, or its offsets would skip the records given up.
   */
  let abandoned = false;

  const full = (): boolean =>
    buffer.values.length >= options.maxRecords || buffer.bytes >= options.maxBytes;

  async function write(taken: Pending<T>): Promise<void> {
    const offsets = [...taken.offsets.values()];
    for (let attempt = 1; !abandoned; attempt++) {
      try {
        if (taken.values.length > 0) await options.insert(taken.values);
        break;
      } catch (err) {
        if (signal?.aborted) {
          abandoned = true;
          break;
        }
        const delayMs = backoffDelay(attempt - 1, options.retry);
        log.warn(
          { err, records: taken.values.length, attempt, delayMs },
          'insert failed; retrying after a backoff without committing',
        );
        try {
          await sleep(delayMs, signal);
        } catch {
          abandoned = true;
        }
      }
    }
    if (abandoned) {
      log.warn(
        { records: taken.values.length, offsets },
        'stopped before the insert succeeded; these records stay uncommitted and are delivered again',
      );
      return;
    }
    await commit(offsets);
  }

  async function commit(offsets: TopicPartitionOffset[]): Promise<void> {
    try {
      await options.commit(offsets);
    } catch (err) {
      if (offsets.length === 1) {
        // The records are in ClickHouse: an uncommitted offset only means they may be delivered
        // again (after a rebalance or restart), and the warehouse deduplicates them.
        log.warn({ err, ...offsets[0] }, 'could not commit the offset of an inserted batch');
        return;
      }
      // One partition handed over to another member must not keep the others uncommitted.
      for (const offset of offsets) await commit([offset]);
    }
  }

  function flush(): Promise<void> {
    clearTimeout(timer);
    timer = undefined;
    if (buffer.offsets.size === 0) return inFlight ?? Promise.resolve();
    const taken = buffer;
    buffer = emptyBuffer();
    const previous = inFlight;
    inFlightValues += taken.values.length;
    const run = (async () => {
      try {
        if (previous) await previous;
        await write(taken);
      } finally {
        inFlightValues -= taken.values.length;
      }
    })();
    inFlight = run;
    void run.finally(() => {
      if (inFlight === run) inFlight = undefined;
    });
    return run;
  }

  return {
    async add(chunk) {
      for (const value of chunk.values) buffer.values.push(value);
      buffer.bytes += chunk.bytes;
      const key = `${chunk.topic}:${chunk.partition}`;
      const known = buffer.offsets.get(key);
      if (known === undefined || known.offset < chunk.nextOffset) {
        buffer.offsets.set(key, {
          topic: chunk.topic,
          partition: chunk.partition,
          offset: chunk.nextOffset,
        });
      }
      if (full()) {
        await flush();
      } else if (timer === undefined) {
        timer = setTimeout(() => {
          timer = undefined;
          // write() handles its own failures; anything else is a bug worth a log line.
          flush().catch((err: unknown) => log.error({ err }, 'timed flush failed'));
        }, options.flushMs);
      }
    },
    flush,
    pending: () => buffer.values.length + inFlightValues,
  };
}
