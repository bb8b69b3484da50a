/** Record headers: small string metadata travelling with a record. */
export type RecordHeaders = Readonly<Record<string, string>>;

/** A record to append to a topic. */
export interface ProduceRecord {
  /**
   * Records with equal keys land on the same partition and keep their order. A null key is
   * spread over the partitions.
   */
  key: Buffer | null;
  value: Buffer;
  headers?: RecordHeaders;
  /** Milliseconds since the epoch. @default Date.now() */
  timestamp?: number;
  /** Explicit partition; overrides the key's partition. */
  partition?: number;
}

/** Where one produced record was stored. */
export interface ProduceResult {
  topic: string;
  partition: number;
  offset: number;
}

/** A record read from a topic. Offsets are per partition, dense for the embedded log. */
export interface BusRecord {
  topic: string;
  partition: number;
  offset: number;
  key: Buffer | null;
  value: Buffer;
  headers: RecordHeaders;
  /** Milliseconds since the epoch. */
  timestamp: number;
}

/** A topic and the settings it is created with when it does not exist yet. */
export interface TopicSpec {
  topic: string;
  /** @default 1 */
  partitions?: number;
  /** Records older than this may be deleted, in ms. @default 604800000 (7 days) */
  retentionMs?: number;
  /** A partition may be trimmed to this many bytes; -1 for no limit. @default -1 */
  retentionBytes?: number;
  /**
   * `compact`: a topic of keyed state where only the last record per key matters (Kafka's
   * `cleanup.policy=compact`); readers must take the last record of each key. Kafka removes
   * older records of a key in the background. The embedded log does not compact: it keeps
   * every record, and without an explicit retention never deletes any (deleting by age would
   * lose keys' last records). @default 'delete'
   */
  cleanupPolicy?: 'delete' | 'compact';
}

/** First and next offset of one partition: records [low, high) are readable. */
export interface PartitionOffsets {
  partition: number;
  low: number;
  high: number;
}

/** A topic and partition. */
export interface TopicPartition {
  topic: string;
  partition: number;
}

/** An offset to commit: the next offset the group should read (last processed + 1). */
export interface TopicPartitionOffset extends TopicPartition {
  offset: number;
}

/** Records of one partition handed to a consumer's handler, in offset order. */
export interface ConsumedBatch {
  topic: string;
  partition: number;
  records: BusRecord[];
  /** The partition's next offset when the batch was fetched, for lag. */
  highWatermark: number;
}

export interface ConsumerOptions {
  /** Consumers sharing a group id share the partitions of their topics. */
  groupId: string;
  topics: string[];
  /**
   * Where a partition without a committed offset starts: at its first record or at its end.
   * @default 'earliest'
   */
  startFrom?: 'earliest' | 'latest';
  /** Most records in one batch. @default 1000 */
  maxBatchRecords?: number;
}

/** Handles one batch. A batch whose handler throws is delivered again (after a backoff). */
export type BatchHandler = (batch: ConsumedBatch) => Promise<void>;

/**
 * A member of a consumer group. Offsets are committed only by `commit`, never automatically:
 * what was not committed is delivered again to whoever owns the partition next.
 */
export interface Consumer {
  /**
   * Joins the group and starts handing batches to `handler`, one at a time. Resolves once the
   * consumer has joined; batches keep coming until `close`.
   * @throws MamoriError BusClosed if the consumer was closed.
   */
  run(handler: BatchHandler): Promise<void>;
  /**
   * Commits offsets for partitions this member owns.
   * @throws MamoriError BusGroup when a partition is not (or no longer) assigned to it.
   */
  commit(offsets: TopicPartitionOffset[]): Promise<void>;
  /** Partitions assigned to this member now. */
  assignment(): TopicPartition[];
  /** Leaves the group; uncommitted records go to the next owner of the partitions. */
  close(): Promise<void>;
}

/**
 * The event bus: keyed, partitioned, durable topics read by consumer groups, with the
 * semantics of Apache Kafka. Both the embedded log and Kafka implement it.
 */
export interface Bus {
  readonly kind: 'embedded' | 'kafka';
  /**
   * Creates the topics that do not exist. An existing topic keeps its settings.
   * @throws MamoriError BusTopic when a spec is invalid.
   */
  ensureTopics(specs: TopicSpec[]): Promise<void>;
  /**
   * Appends records and resolves once they are durable (fsynced, or acknowledged by all
   * in-sync replicas). Results are in the order of `records`.
   * @throws MamoriError BusUnavailable (retriable) when the write could not be made durable;
   *   BusTopic when the topic does not exist.
   */
  produce(topic: string, records: readonly ProduceRecord[]): Promise<ProduceResult[]>;
  /** Creates a consumer; it joins its group on `run`. */
  consumer(options: ConsumerOptions): Consumer;
  /** First and next offset of each partition of a topic. */
  offsets(topic: string): Promise<PartitionOffsets[]>;
  /** Offsets committed by a group for a topic; partitions without a commit are left out. */
  committed(groupId: string, topic: string): Promise<TopicPartitionOffset[]>;
  /** Closes consumers, flushes and releases every resource. Idempotent. */
  close(): Promise<void>;
}
