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
  /** Called once, when the topic has been read up to where it ended at start. */
  onSynced?(): void;
}

export interface TopicFollower {
  /**
   * Starts reading the topic from its beginning. Resolves true once everything that was on it
   * at start has been read, false after `timeoutMs` (the follower goes on reading, and calls
   * `onSynced` when it gets there).
   */
  start(timeoutMs: number): Promise<boolean>;
  /** True once the topic has been read up to where it ended at start. */
  readonly synced: boolean;
  stop(): Promise<void>;
}

/**
 * Follows a topic whose records make up a state every replica must see entirely (a compacted
 * topic of policies, say): each follower is a consumer group of its own, starting at the
 * earliest offset and never committing. Its state is a cache of the topic, rebuilt at every
 * start, and nothing is left behind on the bus (groups without commits store no offsets).
 */
export function followTopic(options: TopicFollowerOptions): TopicFollower {
  const { bus, topic } = options;
  /** Offsets each partition must reach before the follower is synced; cleared once reached. */
  let pending: Map<number, number> | undefined;
  let synced = false;
  let consumer: Consumer | undefined;
  let markSynced: () => void = () => undefined;
  const syncedPromise = new Promise<void>((resolve) => (markSynced = resolve));

  function checkSynced(): void {
    if (synced || pending === undefined || pending.size > 0) return;
    synced = true;
    markSynced();
    options.onSynced?.();
  }

  function handle(batch: ConsumedBatch): Promise<void> {
    options.onBatch(batch, synced);
    const last = batch.records.at(-1);
    if (pending !== undefined && last !== undefined) {
      const target = pending.get(batch.partition);
      if (target !== undefined && last.offset + 1 >= target) pending.delete(batch.partition);
    }
    checkSynced();
    return Promise.resolve();
  }

  return {
    async start(timeoutMs) {
      // Where the topic ends now: the state is complete once every partition is read that far.
      const offsets = await bus.offsets(topic);
      pending = new Map(offsets.filter((p) => p.high > p.low).map((p) => [p.partition, p.high]));
      consumer = bus.consumer({
        groupId: `${options.groupPrefix}-${randomUUID()}`,
        topics: [topic],
        startFrom: 'earliest',
      });
      await consumer.run(handle);
      checkSynced();
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs);
      });
      const inTime = await Promise.race([syncedPromise.then(() => true), timedOut]);
      clearTimeout(timer);
      return inTime;
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
