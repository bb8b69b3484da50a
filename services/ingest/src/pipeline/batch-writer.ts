import type { Bus, ProduceRecord, RecordHeaders } from '@mamori/bus';
import { ErrorCode, isMamoriError, isRetriable, type Logger } from '@mamori/common';
import { EventHeaders, type BatchAck, type Rejection } from '@mamori/proto';
import type { AgentIdentity } from '../auth/tokens.js';
import { validateBatch, type ValidationLimits } from '../validation/batch.js';
import type { WireBatch } from '../wire/agent-message.js';
import { varintSize, writeVarint, fieldPath, loadEventWireSchema } from '@mamori/proto/wire';
import type { SequenceTracker } from './sequences.js';

export interface BatchWriterOptions {
  bus: Bus;
  sequences: SequenceTracker;
  limits: ValidationLimits;
  topics: { events: string; rejected: string };
  logger: Logger;
  /** How long an agent should wait before resending after a transient failure, in ms. */
  retryAfterMs: number;
  /** The clock, in microseconds since the epoch; injectable for tests. */
  nowMicros?: () => number;
}

/** The agent a stream belongs to, and whose sequence numbers its batches carry. */
export interface StreamAgent extends AgentIdentity {
  /** Its instance's numbering (`sequenceKey`), made once per stream. */
  sequenceKey: string;
}

/** Turns one batch of one agent into bus records and an acknowledgement. Never throws. */
export type BatchWriter = (agent: StreamAgent, batch: WireBatch) => Promise<BatchAck>;

/** Current time in microseconds since the epoch (sub-millisecond from the monotonic clock). */
export function wallClockMicros(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}

/**
 * The bytes ingest appends to every event it forwards: tenant_id, agent_id and
 * received_unix_micros. Protobuf parsers keep the last value of a singular field, so these
 * override whatever the agent put in the same fields — without decoding or re-encoding the
 * event.
 */
export function createStamp(): (
  tenantId: string,
  agentId: string,
  receivedMicros: number,
) => Buffer {
  const schema = loadEventWireSchema();
  const tenantTag = (fieldPath(schema, 'tenant_id')[0]! << 3) | 2;
  const agentTag = (fieldPath(schema, 'agent_id')[0]! << 3) | 2;
  const receivedTag = fieldPath(schema, 'received_unix_micros')[0]! << 3;
  return (tenantId, agentId, receivedMicros) => {
    const tenant = Buffer.from(tenantId);
    const agent = Buffer.from(agentId);
    const out = Buffer.allocUnsafe(
      3 +
        varintSize(tenant.length) +
        tenant.length +
        varintSize(agent.length) +
        agent.length +
        varintSize(receivedMicros),
    );
    let at = 0;
    out[at++] = tenantTag;
    at = writeVarint(out, at, tenant.length);
    at += tenant.copy(out, at);
    out[at++] = agentTag;
    at = writeVarint(out, at, agent.length);
    at += agent.copy(out, at);
    out[at++] = receivedTag;
    at = writeVarint(out, at, receivedMicros);
    return out.subarray(0, at);
  };
}

/**
 * Validates a batch, stamps tenant, agent and receive time from the credential on every valid
 * event, writes valid events to the events topic (keyed by tenant and agent, so each agent's
 * events stay in order) and refused ones to the rejected topic, and answers only once the
 * bus has made them durable.
 */
export function createBatchWriter(options: BatchWriterOptions): BatchWriter {
  const { bus, sequences, limits, topics, logger } = options;
  const now = options.nowMicros ?? wallClockMicros;
  const stampFor = createStamp();

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
    const claim = await sequences.claim(identity.sequenceKey, sequence);
    if (claim.kind === 'duplicate') {
      return {
        sequence,
        status: 'ACK_STATUS_DUPLICATE',
        accepted: 0,
        reason: 'sequence already accepted',
      };
    }

    const stamp = stampFor(identity.tenantId, identity.agentId, now());
    const key = Buffer.from(agentKey);
    const seqHeader = String(sequence);
    const stamped = (bytes: Buffer): Buffer =>
      Buffer.concat([bytes, stamp], bytes.length + stamp.length);
    // One headers object per event kind in the batch: the bus encodes each once per call.
    const headersByKind = new Map<string, RecordHeaders>();
    const headersFor = (kind: string): RecordHeaders => {
      let headers = headersByKind.get(kind);
      if (!headers) {
        headers = { [EventHeaders.kind]: kind };
        headersByKind.set(kind, headers);
      }
      return headers;
    };
    const accepted: ProduceRecord[] = verdict.valid.map(({ index, kind }) => ({
      key,
      value: stamped(batch.events[index]!),
      headers: headersFor(kind),
    }));
    const rejections: Rejection[] = verdict.rejections;
    // Refused events are kept as received (with the stamp), for audit; an oversized one is not.
    const refused: ProduceRecord[] = [];
    for (const rejection of rejections) {
      const bytes = batch.events[rejection.index!];
      if (!bytes || bytes.length > limits.maxEventBytes) continue;
      refused.push({
        key,
        value: stamped(bytes),
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
      if (isMamoriError(err, ErrorCode.TooLarge)) {
        // Resending the same batch would fail the same way.
        logger.warn(
          { err, tenantId: identity.tenantId, agentId: identity.agentId, sequence },
          'batch too large for the bus',
        );
        return {
          sequence,
          status: 'ACK_STATUS_REJECTED',
          accepted: 0,
          reason: 'the batch is too large for the event bus; send smaller batches',
          rejections: [{ index: -1, field: 'events', reason: 'too large for the event bus' }],
        };
      }
      logger.warn(
        {
          err,
          tenantId: identity.tenantId,
          agentId: identity.agentId,
          sequence,
          retriable: isRetriable(err),
        },
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
        {
          tenantId: identity.tenantId,
          agentId: identity.agentId,
          sequence,
          refused: rejections.length,
        },
        'batch had invalid events',
      );
    }
    return {
      sequence,
      status:
        accepted.length === 0 && rejections.length > 0
          ? 'ACK_STATUS_REJECTED'
          : 'ACK_STATUS_ACCEPTED',
      accepted: accepted.length,
      reason:
        rejections.length > 0
          ? `${rejections.length} event(s) refused; first: ${rejections[0]!.field}: ${rejections[0]!.reason}`
          : '',
      rejections,
    };
  };
}
