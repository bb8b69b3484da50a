import { createSilentLogger, isMamoriError, type Logger } from '@mamori/common';
import type { Bus, BusRecord, ConsumedBatch, ProduceRecord } from './types.js';

/** Headers a dead letter carries, besides the original record's own headers. */
export const DEAD_LETTER_HEADERS = {
  /** Topic the record was read from. */
  topic: 'mamori.dlq.topic',
  /** Its partition, in decimal. */
  partition: 'mamori.dlq.partition',
  /** Its offset, in decimal. */
  offset: 'mamori.dlq.offset',
  /** Its timestamp, ms since the epoch in decimal. */
  timestamp: 'mamori.dlq.timestamp',
  /** Consumer group that could not decode it. */
  groupId: 'mamori.dlq.group',
  /** The decoder's error message (at most 1000 characters). */
  error: 'mamori.dlq.error',
  /** The error's code, when it has one (a MamoriError's `code`). */
  errorCode: 'mamori.dlq.error-code',
} as const;

/** Longest error message kept in a dead letter's header, in characters. */
const MAX_ERROR_MESSAGE = 1000;

/** A record that decoded, with its decoded value. */
export interface DecodedRecord<T> {
  record: BusRecord;
  value: T;
}

/** What decoding one record gave: its value, or why it is undecodable. */
export type DecodeOutcome<T> = { value: T } | { error: unknown };

export interface DeadLetterDecoderOptions<T> {
  /** The bus dead letters are produced to (usually the one the records came from). */
  bus: Pick<Bus, 'produce' | 'ensureTopics'>;
  /** Decodes one record; a throw marks the record undecodable. Must be synchronous. */
  decode: (record: BusRecord) => T;
  /**
   * Decodes a whole batch at once instead of `decode` (elsewhere, e.g. in a worker thread):
   * one outcome per record, in order; an `error` marks that record undecodable. A rejection
   * fails the batch (it is delivered again).
   */
  decodeBatch?: (records: readonly BusRecord[]) => Promise<DecodeOutcome<T>[]>;
  /** Consumer group of the caller, recorded on each dead letter. */
  groupId: string;
  /**
   * Dead-letter topic for records of a topic: a name for all, or a function of the topic.
   * @default (topic) => `${topic}.dlq`
   */
  deadLetterTopic?: string | ((topic: string) => string);
  /** Partitions of a dead-letter topic that does not exist yet. @default 1 */
  deadLetterPartitions?: number;
  /** @default a silent logger */
  logger?: Logger;
}

/**
 * Decodes a batch, sending records that fail to decode to their dead-letter topic. Resolves
 * with the decoded records in offset order once every dead letter is durable, so the caller
 * can handle them and commit the whole batch: one bad record never stops its partition.
 * @throws whatever producing the dead letters throws (typically a retriable BusUnavailable);
 *   the caller's handler then fails and the batch is delivered again, so nothing is lost.
 */
export type DeadLetterDecoder<T> = (batch: ConsumedBatch) => Promise<DecodedRecord<T>[]>;

/**
 * Creates a decoder for consumers that routes undecodable records to a dead-letter topic with
 * headers naming where they came from (`DEAD_LETTER_HEADERS`). The dead-letter topic is created
 * on first use if it does not exist.
 */
export function createDeadLetterDecoder<T>(
  options: DeadLetterDecoderOptions<T>,
): DeadLetterDecoder<T> {
  const { bus, decode, decodeBatch, groupId } = options;
  const log = options.logger ?? createSilentLogger();
  const naming = options.deadLetterTopic ?? ((topic: string) => `${topic}.dlq`);
  const topicFor = typeof naming === 'string' ? () => naming : naming;
  const partitions = options.deadLetterPartitions ?? 1;
  const ensured = new Map<string, Promise<void>>();

  const ensureTopic = (topic: string): Promise<void> => {
    let promise = ensured.get(topic);
    if (promise === undefined) {
      promise = bus.ensureTopics([{ topic, partitions }]);
      // Forget a failure, so that the next batch tries again.
      void promise.catch(() => ensured.delete(topic));
      ensured.set(topic, promise);
    }
    return promise;
  };

  return async (batch) => {
    const decoded: DecodedRecord<T>[] = [];
    const letters: ProduceRecord[] = [];
    const deadLetterTopic = topicFor(batch.topic);
    const outcomes = decodeBatch ? await decodeBatch(batch.records) : undefined;
    for (let i = 0; i < batch.records.length; i++) {
      const record = batch.records[i]!;
      try {
        const outcome = outcomes?.[i];
        if (outcome === undefined) {
          decoded.push({ record, value: decode(record) });
        } else if ('error' in outcome) {
          throw outcome.error;
        } else {
          decoded.push({ record, value: outcome.value });
        }
      } catch (err) {
        log.warn(
          {
            topic: record.topic,
            partition: record.partition,
            offset: record.offset,
            groupId,
            deadLetterTopic,
            err,
          },
          'undecodable record sent to dead letters',
        );
        letters.push(deadLetter(record, groupId, err));
      }
    }
    if (letters.length > 0) {
      await ensureTopic(deadLetterTopic);
      await bus.produce(deadLetterTopic, letters);
    }
    return decoded;
  };
}

function deadLetter(record: BusRecord, groupId: string, err: unknown): ProduceRecord {
  const message = err instanceof Error ? err.message : String(err);
  const code = isMamoriError(err) ? err.code : (err as { code?: unknown } | null)?.code;
  const headers: Record<string, string> = {
    ...record.headers,
    [DEAD_LETTER_HEADERS.topic]: record.topic,
    [DEAD_LETTER_HEADERS.partition]: String(record.partition),
    [DEAD_LETTER_HEADERS.offset]: String(record.offset),
    [DEAD_LETTER_HEADERS.timestamp]: String(record.timestamp),
    [DEAD_LETTER_HEADERS.groupId]: groupId,
    [DEAD_LETTER_HEADERS.error]: message.slice(0, MAX_ERROR_MESSAGE),
  };
  if (typeof code === 'string') headers[DEAD_LETTER_HEADERS.errorCode] = code;
  // The dead letter gets a fresh timestamp: an old original one could make time-based retention
  // delete it at once.
  return { key: record.key, value: record.value, headers };
}
