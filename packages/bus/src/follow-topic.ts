import { randomUUID } from 'node:crypto';
import type { Bus, ConsumedBatch, Consumer } from './types.js';

export interface TopicFollowerOptions {
  bus: Pick<Bus, 'consumer' | 'offsets'>;
  topic: string;
  /** Prefix of the follower's consumer group; a random suffix makes it one of its own. */
  groupPrefix: string;
  /**
   * Each batch read, in order. `synced` says whether the topic had already been read up to
   * where it ended at start before this batch.
   */
  onBatch(batch: ConsumedBatch, synced: boolean): void;
  /** Called once, right after the batch that completes what was on the topic at start. */
  onSynced?(): void;
}

export interface TopicFollower {
  /**
   * Joins its own group and starts reading from the beginning.
   * @throws what the bus throws; start can then be called again.
   */
  start(): Promise<void>;
  /**
   * Resolves true once everything that was on the topic at start has been read, false after
   * `timeoutMs` (the follower goes on reading, and calls `onSynced` when it gets there).
   */
  waitSynced(timeoutMs: number): Promise<boolean>;
  /** Resolves once every record on the topic when called has been read. */
  caughtUp(): Promise<void>;
  /** True once the topic has been read up to where it ended at start. */
  readonly synced: boolean;
  stop(): Promise<void>;
}

/**
 * Follows a topic whose records make up a state every replica must hold entirely (a compacted
 * topic of policies, say): each follower is a consumer group of its own, starting at the
 * earliest offset and never committing. Its state is a cache of the topic, rebuilt at every
 * start, and nothing is left behind on the bus (groups without commits store no offsets).
 */
export function followTopic(options: TopicFollowerOptions): TopicFollower {
  const { bus, topic } = options;
  /** Per partition, the next offset the follower will read. */
  const next = new Map<number, number>();
  /** Who waits for the follower to reach some offsets; checked after every batch. */
  let waiters: { reached: () => boolean; done: () => void }[] = [];
  let synced = false;
  let consumer: Consumer | undefined;
  let markSynced: () => void = () => undefined;
  const syncedPromise = new Promise<void>((resolve) => (markSynced = resolve));

  /** A predicate: the follower has read every partition up to where it ends now. */
  async function endsNow(): Promise<() => boolean> {
    const ends = (await bus.offsets(topic)).filter((p) => p.high > p.low);
    return () => ends.every((p) => (next.get(p.partition) ?? p.low) >= p.high);
  }

  function release(): void {
    const waiting = waiters;
    waiters = [];
    for (const waiter of waiting) {
      if (waiter.reached()) waiter.done();
      else waiters.push(waiter);
    }
  }

  function handle(batch: ConsumedBatch): Promise<void> {
    options.onBatch(batch, synced);
    const last = batch.records.at(-1);
    if (last !== undefined) next.set(batch.partition, last.offset + 1);
    release();
    return Promise.resolve();
  }

  return {
    async start() {
      // Where the topic ends now: the state is complete once every partition is read that far.
      const reached = await endsNow();
      waiters.push({
        reached,
        done() {
          synced = true;
          markSynced();
          options.onSynced?.();
        },
      });
      consumer = bus.consumer({
        groupId: `${options.groupPrefix}-${randomUUID()}`,
        topics: [topic],
        startFrom: 'earliest',
      });
      try {
        await consumer.run(handle);
      } catch (err) {
        const failed = consumer;
        consumer = undefined;
        waiters = [];
        next.clear();
        await failed.close().catch(() => undefined);
        throw err;
      }
      release();
    },
    async waitSynced(timeoutMs) {
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs);
      });
      const inTime = await Promise.race([syncedPromise.then(() => true), timedOut]);
      clearTimeout(timer);
      return inTime;
    },
    async caughtUp() {
      const reached = await endsNow();
      if (reached()) return;
      await new Promise<void>((done) => waiters.push({ reached, done }));
    },
    get synced() {
      return synced;
    },
    async stop() {
      await consumer?.close();
      consumer = undefined;
    },
  };
}
