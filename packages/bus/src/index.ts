export type {
  BatchHandler,
  Bus,
  BusRecord,
  ConsumedBatch,
  Consumer,
  ConsumerOptions,
  PartitionOffsets,
  ProduceRecord,
  ProduceResult,
  RecordHeaders,
  TopicPartition,
  TopicPartitionOffset,
  TopicSpec,
} from './types.js';
export { murmur2, partitionForKey } from './partitioner.js';
export { readBusConfig, type BusConfig } from './config.js';
export { createKafkaBus } from './kafka/kafka-bus.js';
export type { KafkaBusOptions, KafkaSaslOptions } from './kafka/options.js';
