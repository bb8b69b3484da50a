import type { Bus, ProduceRecord } from '@mamori/bus';
import { isRetriable, type Logger } from '@mamori/common';
import {
  EventHeaders,
  type BatchAck,
  type Event__Output,
  type EventBatch__Output,
  type EventCodec,
  type Rejection,
} from '@mamori/proto';
import type { AgentIdentity } from '../auth/tokens.js';
import { validateBatch, type ValidationLimits } from '../validation/batch.js';
import type { SequenceTracker } from './sequences.js';

export interface BatchWriterOptions {
  bus: Bus;
  codec: EventCodec;
  sequences: SequenceTracker;
  limits: ValidationLimits;
  /** Largest encoded event, in bytes; larger events are refused. */
  maxEventBytes: number;
  topics: { events: string; rejected: string };
  logger: Logger;
  /** How long an agent should wait before resending after a transient failure, in ms. */
  retryAfterMs: number;
  /** The clock, in microseconds since the epoch; injectable for tests. */
  nowMicros?: () => number;
}

/** Turns one batch of one agent into bus records and an acknowledgement. Never throws. */
export type BatchWriter = (identity: AgentIdentity, batch: EventBatch__Output) => Promise<BatchAck>;

/** Current time in microseconds since the epoch (sub-millisecond from the monotonic clock). */
export function wallClockMicros(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}

/**
 * Validates a batch, stamps tenant, agent and receive time from the credential on every valid
 * event, writes valid events to the events topic (keyed by tenant and agent, so each agent's
 * events stay in order) and refused ones to the rejected topic, and answers only once the
 * bus has made them durable.
 */
export function createBatchWriter(options: BatchWriterOptions): BatchWriter {
  const { bus, codec, sequences, limits, topics, logger } = options;
  const now = options.nowMicros ?? wallClockMicros;

  return async function writeBatch(identity, batch) {
    const sequence = batch.sequence;
    const verdict = validateBatch(batch, limits, now());
    if (verdict.batchError) {
      return {
        sequence,
        status: 'ACK_STATUS_REJECTED',
        accepted: 0,
        reason: `${verdict.batchError.field}: ${verdict.batchError.reason}`,
        rejections: [verdict.batchError],
      };
    }

    const agentKey = `${identity.tenantId}/${identity.agentId}`;
    const claim = await sequences.claim(agentKey, sequence);
    if (claim.kind === 'duplicate') {
      return { sequence, status: 'ACK_STATUS_DUPLICATE', accepted: 0, reason: 'sequence already accepted' };
    }

    const receivedMicros = now();
    const key = Buffer.from(agentKey);
    const seqHeader = String(sequence);
    const accepted: ProduceRecord[] = [];
    const refused: ProduceRecord[] = [];
    const rejections: Rejection[] = verdict.rejections;
    const stamp = (event: Event__Output): void => {
      event.tenant_id = identity.tenantId;
      event.agent_id = identity.agentId;
      event.received_unix_micros = receivedMicros;
    };

    for (const index of verdict.valid) {
      const event = batch.events[index]!;
      stamp(event);
      const value = codec.encode(event);
      if (value.length > options.maxEventBytes) {
        rejections.push({
          index,
          event_id: event.id,
          field: `events[${index}]`,
          reason: `encodes to ${value.length} bytes, more than the limit of ${options.maxEventBytes}`,
        });
        continue;
      }
      accepted.push({
        key,
        value,
        headers: {
          [EventHeaders.tenant]: identity.tenantId,
          [EventHeaders.agent]: identity.agentId,
          [EventHeaders.sequence]: seqHeader,
          [EventHeaders.kind]: event.payload ?? '',
        },
      });
    }
    for (const rejection of rejections) {
      const event = batch.events[rejection.index!];
      if (!event) continue;
      stamp(event);
      let value: Buffer;
      try {
        value = codec.encode(event);
      } catch {
        continue;
      }
      if (value.length > options.maxEventBytes) continue;
      refused.push({
        key,
        value,
        headers: {
          [EventHeaders.tenant]: identity.tenantId,
          [EventHeaders.agent]: identity.agentId,
          [EventHeaders.sequence]: seqHeader,
          [EventHeaders.rejectField]: rejection.field ?? '',
          [EventHeaders.rejectReason]: rejection.reason ?? '',
        },
      });
    }

    try {
      await Promise.all([
        accepted.length > 0 ? bus.produce(topics.events, accepted) : undefined,
        refused.length > 0 ? bus.produce(topics.rejected, refused) : undefined,
      ]);
    } catch (err) {
      claim.settle('failed');
      logger.warn(
        { err, tenantId: identity.tenantId, agentId: identity.agentId, sequence, retriable: isRetriable(err) },
        'batch not written to the bus',
      );
      return {
        sequence,
        status: 'ACK_STATUS_RETRY',
        accepted: 0,
        reason: 'the event bus did not accept the batch; resend it',
        retry_after_ms: options.retryAfterMs,
      };
    }
    claim.settle('accepted');
    if (rejections.length > 0) {
      logger.info(
        { tenantId: identity.tenantId, agentId: identity.agentId, sequence, refused: rejections.length },
        'batch had invalid events',
      );
    }
    return {
      sequence,
      status: accepted.length === 0 && rejections.length > 0 ? 'ACK_STATUS_REJECTED' : 'ACK_STATUS_ACCEPTED',
      accepted: accepted.length,
      reason: rejections.length > 0 ? `${rejections.length} event(s) refused; first: ${rejections[0]!.field}: ${rejections[0]!.reason}` : '',
      rejections,
    };
  };
}
