import type { BatchAck } from '@mamori/proto';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { BatchWriter } from './pipeline/batch-writer.js';

export interface IngestMetrics {
  readonly registry: Registry;
  readonly batches: Counter<'status'>;
  readonly eventsAccepted: Counter;
  readonly eventsRejected: Counter;
  readonly bytesReceived: Counter;
  /** Events agents dropped on their side (queue or spool full), as their batches say. */
  readonly agentDroppedEvents: Counter<'priority'>;
  readonly batchDuration: Histogram;
  /** Hellos refused because another instance of the same agent id was connected. */
  readonly agentIdConflicts: Counter;
}

export interface IngestMetricsOptions {
  /**
   * Collects process metrics (CPU, memory, event loop) too; off when another service of the
   * same process already does. @default true
   */
  defaultMetrics?: boolean;
  /** Agent streams connected now, read at scrape time. */
  connectedStreams(): number;
  /** Events read from agents and not acknowledged yet, read at scrape time. */
  inFlightEvents(): number;
}

/** Prometheus metrics of one ingest instance, in a registry of its own. */
export function createIngestMetrics(options: IngestMetricsOptions): IngestMetrics {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) {
    collectDefaultMetrics({ register: registry, prefix: 'mamori_ingest_' });
  }
  // Gauges read at scrape time: nothing to keep up to date on the hot path.
  new Gauge({
    name: 'mamori_ingest_connected_streams',
    help: 'Agent streams connected now (hello accepted).',
    registers: [registry],
    collect() {
      this.set(options.connectedStreams());
    },
  });
  new Gauge({
    name: 'mamori_ingest_inflight_events',
    help: 'Events read from agents and not yet acknowledged.',
    registers: [registry],
    collect() {
      this.set(options.inFlightEvents());
    },
  });
  return {
    registry,
    batches: new Counter({
      name: 'mamori_ingest_batches_total',
      help: 'Batches acknowledged, by ack status (accepted, rejected, duplicate, retry).',
      labelNames: ['status'],
      registers: [registry],
    }),
    eventsAccepted: new Counter({
      name: 'mamori_ingest_events_accepted_total',
      help: 'Events written durably to the events topic.',
      registers: [registry],
    }),
    eventsRejected: new Counter({
      name: 'mamori_ingest_events_rejected_total',
      help: 'Events refused by validation (per event, or whole batches refused).',
      registers: [registry],
    }),
    agentDroppedEvents: new Counter({
      name: 'mamori_ingest_agent_dropped_events_total',
      help: 'Events agents dropped before sending (their queue or offline spool was full), by priority, as their accepted batches report.',
      labelNames: ['priority'],
      registers: [registry],
    }),
    bytesReceived: new Counter({
      name: 'mamori_ingest_received_bytes_total',
      help: 'Bytes of event batches received, as encoded by the agents.',
      registers: [registry],
    }),
    agentIdConflicts: new Counter({
      name: 'mamori_ingest_agent_id_conflicts_total',
      help: 'Agent streams refused because another instance of the same agent id was connected (two agents configured with one id).',
      registers: [registry],
    }),
    batchDuration: new Histogram({
      name: 'mamori_ingest_batch_ack_duration_seconds',
      help: 'Time from reading a batch to its acknowledgement (validation and bus write), in seconds.',
      // 1 ms to 10 s: an embedded-log fsync takes milliseconds, a Kafka acks=all write tens.
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      registers: [registry],
    }),
  };
}

/** The ack status as a short label: ACK_STATUS_ACCEPTED → accepted. */
function statusLabel(status: BatchAck['status']): string {
  return typeof status === 'string' ? status.replace(/^ACK_STATUS_/, '').toLowerCase() : 'unknown';
}

/**
 * A batch writer that counts what `write` did: a few increments per batch, never per event
 * (ingest handles hundreds of thousands of events a second).
 */
export function instrumentBatchWriter(write: BatchWriter, metrics: IngestMetrics): BatchWriter {
  return async (identity, batch) => {
    const stop = metrics.batchDuration.startTimer();
    metrics.bytesReceived.inc(batch.bytes);
    const ack = await write(identity, batch);
    stop();
    metrics.batches.inc({ status: statusLabel(ack.status) });
    const accepted = Number(ack.accepted ?? 0);
    if (accepted > 0) metrics.eventsAccepted.inc(accepted);
    const refused =
      ack.status === 'ACK_STATUS_REJECTED' && accepted === 0
        ? batch.events.length
        : (ack.rejections?.length ?? 0);
    if (refused > 0) metrics.eventsRejected.inc(refused);
    // Once per accepted sequence: a duplicate's counts were counted with its first acceptance.
    if (ack.status === 'ACK_STATUS_ACCEPTED' || ack.status === 'ACK_STATUS_REJECTED') {
      if (batch.droppedLow > 0)
        metrics.agentDroppedEvents.inc({ priority: 'low' }, batch.droppedLow);
      if (batch.droppedHigh > 0) {
        metrics.agentDroppedEvents.inc({ priority: 'high' }, batch.droppedHigh);
      }
    }
    return ack;
  };
}
