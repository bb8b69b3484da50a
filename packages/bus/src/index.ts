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
export { followTopic, type TopicFollower, type TopicFollowerOptions } from './follow-topic.js';
export { murmur2, partitionForKey } from './partitioner.js';
export { readBusConfig, type BusConfig } from './config.js';
export { createKafkaBus } from './kafka/kafka-bus.js';
export type { KafkaBusOptions, KafkaSaslOptions } from './kafka/options.js';
export {
  createEmbeddedBus,
  type EmbeddedBus,
  type EmbeddedBusOptions,
} from './embedded/embedded-bus.js';
export {
  createDeadLetterDecoder,
  DEAD_LETTER_HEADERS,
  type DeadLetterDecoder,
  type DeadLetterDecoderOptions,
  type DecodedRecord,
  type DecodeOutcome,
} from './dead-letter.js';
export { createBus } from './create-bus.js';
