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
  /**
   * Inserts running at once. Two let the next batch's insert start while ClickHouse still
   * writes the previous one; commits stay in batch order either way. @default 2
   */
  maxInFlight?: number;
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
   * Adds a consumed batch. Resolves at once, or — when the buffer is full — once its insert
   * has started, which waits while `maxInFlight` inserts run: a consumer awaiting it fetches
   * nothing more meanwhile.
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
 * holding its offsets uncommitted, until it succeeds or `signal` aborts. Up to `maxInFlight`
 * inserts run at once, but a batch commits only after every batch flushed before it has, so
 * commits of a partition only move forward. Memory holds at most `maxInFlight` batches being
 * inserted, one queued (by the timer) and one filling.
 */
export function createBatcher<T>(options: BatcherOptions<T>): Batcher<T> {
  const { logger: log, signal } = options;
  let buffer = emptyBuffer<T>();
  let timer: NodeJS.Timeout | undefined;
  /** The last flush: it resolves once it and every flush before it committed. */
  let inFlight: Promise<void> | undefined;
  let inFlightValues = 0;
  const maxInFlight = options.maxInFlight ?? 2;
  let inserting = 0;
  /** Flushes waiting for an insert slot, in order. */
  const waiting: (() => void)[] = [];
  const acquire = (): Promise<void> => {
    if (inserting < maxInFlight) {
      inserting++;
      return Promise.resolve();
    }
    return new Promise((resolve) => waiting.push(resolve));
  };
  const release = (): void => {
    const next = waiting.shift();
    if (next) next();
    else inserting--;
  };
  /**
   * Set when a batch was given up uninserted (stop while ClickHouse is down): no later batch
   * may commit, or its offsets would skip the records given up.
   */
  let abandoned = false;

  const full = (): boolean =>
    buffer.values.length >= options.maxRecords || buffer.bytes >= options.maxBytes;

  /** Inserts (retrying); resolves whether it was inserted. */
  async function insert(taken: Pending<T>): Promise<boolean> {
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
        { records: taken.values.length, offsets: [...taken.offsets.values()] },
        'stopped before the insert succeeded; these records stay uncommitted and are delivered again',
      );
      return false;
    }
    return true;
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

  function startFlush(): { run: Promise<void>; insertStarted: Promise<void> } {
    clearTimeout(timer);
    timer = undefined;
    if (buffer.offsets.size === 0) {
      const run = inFlight ?? Promise.resolve();
      return { run, insertStarted: Promise.resolve() };
    }
    const taken = buffer;
    buffer = emptyBuffer();
    const previous = inFlight;
    inFlightValues += taken.values.length;
    let started: () => void = () => undefined;
    const insertStarted = new Promise<void>((resolve) => (started = resolve));
    const run = (async () => {
      let inserted = false;
      try {
        await acquire();
        started();
        try {
          inserted = await insert(taken);
        } finally {
          release();
        }
        // Commits in flush order: a later batch's offsets must never pass an earlier batch
        // that is still inserting (or was given up).
        if (previous) await previous;
        if (inserted && !abandoned) await commit([...taken.offsets.values()]);
      } finally {
        inFlightValues -= taken.values.length;
      }
    })();
    inFlight = run;
    void run.finally(() => {
      if (inFlight === run) inFlight = undefined;
    });
    return { run, insertStarted };
  }

  function flush(): Promise<void> {
    return startFlush().run;
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
        const { run, insertStarted } = startFlush();
        // insert() and commit() handle their own failures; anything else is a bug worth a log line.
        run.catch((err: unknown) => log.error({ err }, 'flush failed'));
        await insertStarted;
      } else if (timer === undefined) {
        timer = setTimeout(() => {
          timer = undefined;
          // insert() and commit() handle their own failures; anything else is a bug worth a log line.
          flush().catch((err: unknown) => log.error({ err }, 'timed flush failed'));
        }, options.flushMs);
      }
    },
    flush,
    pending: () => buffer.values.length + inFlightValues,
  };
}
