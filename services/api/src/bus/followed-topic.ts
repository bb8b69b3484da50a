import { followTopic, type Bus, type ConsumedBatch, type ProduceRecord } from '@mamori/bus';

/** What the API's topic readers need of the bus. */
export type FollowBus = Pick<Bus, 'ensureTopics' | 'produce' | 'consumer' | 'offsets'>;

/** A compacted topic the API reads whole and writes to. */
export interface FollowedTopic {
  /**
   * Resolves once every record on the topic when called has been applied (`onBatch`), so a
   * caller sees its own writes and those of every other API replica.
   */
  caughtUp(): Promise<void>;
  /** Appends records (creating the topic first if needed). */
  write(records: ProduceRecord[]): Promise<void>;
  /** Stops following the topic. */
  close(): Promise<void>;
}

export interface FollowedTopicOptions {
  bus: FollowBus;
  topic: string;
  /** Prefix of the follower's own consumer group (one per process). */
  groupPrefix: string;
  /** Applies a batch of the topic, in order. */
  onBatch(batch: ConsumedBatch): void;
}

/**
 * Follows a compacted topic like ingest and the detector do (`followTopic`: a consumer group of
 * its own per process, from the earliest offset, never committing), started on first use so
 * that an API nobody asks about the topic reads nothing. The topic is created with the same
 * settings as the other services' (one partition, compacted, kept forever): whichever service
 * starts first creates it.
 */
export function createFollowedTopic(options: FollowedTopicOptions): FollowedTopic {
  const { bus, topic } = options;
  const follower = followTopic({
    bus,
    topic,
    groupPrefix: options.groupPrefix,
    onBatch: (batch) => options.onBatch(batch),
  });
  let starting: Promise<void> | undefined;

  function start(): Promise<void> {
    starting ??= (async () => {
      await bus.ensureTopics([
        { topic, partitions: 1, cleanupPolicy: 'compact', retentionMs: -1, retentionBytes: -1 },
      ]);
      await follower.start();
    })().catch((err: unknown) => {
      // Tried again on the next request: the bus may come back.
      starting = undefined;
      throw err;
    });
    return starting;
  }

  return {
    async caughtUp() {
      await start();
      await follower.caughtUp();
    },
    async write(records) {
      await start();
      await bus.produce(topic, records);
    },
    async close() {
      starting = undefined;
      await follower.stop();
    },
  };
}
