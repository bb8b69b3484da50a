import { randomUUID } from 'node:crypto';
import type { Bus, ConsumedBatch, TopicSpec } from '@mamori/bus';
import { ErrorCode, MamoriError } from '@mamori/common';

/** Header of a checkpoint record: the offset of the events partition the state covers. */
export const CHECKPOINT_OFFSET_HEADER = 'mamori-state-offset';

/** What reading a partition's checkpoints found. */
export interface FoundCheckpoint {
  /** The last checkpoint covering exactly the offset asked for (its JSON), if any. */
  match?: string;
  /** The offset the partition's last checkpoint covers, whatever it is; undefined if none. */
  latestOffset?: number;
}

/** The detector's checkpoints of stateful rules, on a compacted topic. */
export interface CheckpointStore {
  /** The topic and the settings it is created with. */
  readonly spec: TopicSpec;
  /** The record key of a partition's checkpoint: `<group>/<events topic>/<partition>`. */
  key(partition: number): string;
  /**
   * Writes the state of an events partition, covering the records before `offset`; resolves
   * once the bus has acknowledged it (durable).
   * @throws what the bus's produce throws.
   */
  write(partition: number, offset: number, json: string): Promise<void>;
  /**
   * Reads the topic from its beginning up to where it ends now and returns the partition's last
   * checkpoint of `offset`.
   * @throws MamoriError BusUnavailable (retriable) when the topic is not read within the timeout.
   */
  read(partition: number, offset: number): Promise<FoundCheckpoint>;
}

export interface CheckpointStoreOptions {
  bus: Pick<Bus, 'produce' | 'consumer' | 'offsets'>;
  topic: string;
  groupId: string;
  eventsTopic: string;
  /** Longest a read of the topic may take, in ms. @default 30_000 */
  readTimeoutMs?: number;
}

/**
 * Checkpoints on a compacted topic of one partition: one key per events partition, so that
 * Kafka's compaction keeps the last checkpoint of each (the embedded log keeps every record).
 * A read is a consumer of a group of its own that never commits, like the policy followers.
 */
export function createCheckpointStore(options: CheckpointStoreOptions): CheckpointStore {
  const { bus, topic, groupId, eventsTopic } = options;
  const readTimeoutMs = options.readTimeoutMs ?? 30_000;
  const key = (partition: number): string => `${groupId}/${eventsTopic}/${partition}`;
  return {
    spec: {
      topic,
      partitions: 1,
      cleanupPolicy: 'compact',
      // 1 day (ms): Kafka ignores it on a compacted topic and keeps the last record of every
      // key; the embedded log does not compact and would keep a checkpoint of every batch
      // forever. It deletes whole segments, never the one being written, so only a partition
      // that received no events for a day loses its checkpoint; its 5-minute windows have
      // emptied by then.
      retentionMs: 86_400_000,
      retentionBytes: -1,
    },
    key,
    async write(partition, offset, json) {
      await bus.produce(topic, [
        {
          key: Buffer.from(key(partition)),
          value: Buffer.from(json),
          headers: { [CHECKPOINT_OFFSET_HEADER]: String(offset) },
          partition: 0,
        },
      ]);
    },
    async read(partition, offset) {
      const wanted = key(partition);
      const found: FoundCheckpoint = {};
      const ends = new Map(
        (await bus.offsets(topic)).filter((p) => p.high > p.low).map((p) => [p.partition, p.high]),
      );
      if (ends.size === 0) return found;
      let done: () => void = () => undefined;
      const all = new Promise<void>((resolve) => (done = resolve));
      const consumer = bus.consumer({
        groupId: `${groupId}-state-reader-${randomUUID()}`,
        topics: [topic],
        startFrom: 'earliest',
      });
      const handle = (batch: ConsumedBatch): Promise<void> => {
        for (const record of batch.records) {
          if (record.key?.toString() !== wanted) continue;
          const covers = Number(record.headers[CHECKPOINT_OFFSET_HEADER]);
          if (!Number.isSafeInteger(covers)) continue;
          found.latestOffset = covers;
          if (covers === offset) found.match = record.value.toString();
        }
        const last = batch.records.at(-1);
        const end = ends.get(batch.partition);
        if (last !== undefined && end !== undefined && last.offset + 1 >= end) {
          ends.delete(batch.partition);
        }
        if (ends.size === 0) done();
        return Promise.resolve();
      };
      let timer: NodeJS.Timeout | undefined;
      try {
        await consumer.run(handle);
        const timedOut = new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(true), readTimeoutMs);
        });
        if (await Promise.race([all.then(() => false), timedOut])) {
          throw new MamoriError(
            ErrorCode.BusUnavailable,
            'the checkpoints topic was not read in time',
            { retriable: true, context: { topic, partition, timeoutMs: readTimeoutMs } },
          );
        }
      } finally {
        clearTimeout(timer);
        await consumer.close();
      }
      return found;
    },
  };
}
