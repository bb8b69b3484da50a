import type { BusRecord, DecodeOutcome } from '@mamori/bus';
import { ErrorCode, MamoriError } from '@mamori/common';
import { protoType, type AgentStatus__Output, type Alert__Output } from '@mamori/proto';
import { decodeMessage } from '@mamori/proto/wire';
import {
  encodeEventRow,
  type AgentInput,
  type EventRowEncoder,
  type AlertInput,
  type AlertSeverity,
  type Warehouse,
} from '@mamori/warehouse';

/** What of the warehouse the store writes with. */
export type StoreWarehouse = Pick<Warehouse, 'insertEventRows' | 'insertAlerts' | 'upsertAgents'>;

/**
 * One topic the store copies into the warehouse: how its records decode and how a batch of
 * them is inserted. Storing another topic is one more definition.
 */
export interface StoreStream<T> {
  /** Short name for logs. */
  name: string;
  topic: string;
  /** Partitions of the topic when the store is first to create it. */
  partitions: number;
  /** Decodes one record; a throw sends it to the topic's dead letters. Synchronous. */
  decode: (record: BusRecord) => T;
  /** Decodes a whole batch elsewhere (a worker thread) instead; an `error` dead-letters. */
  decodeBatch?: (records: readonly BusRecord[]) => Promise<DecodeOutcome<T>[]>;
  /** Inserts a batch; must be idempotent (it is retried, and records may be redelivered). */
  insert: (warehouse: StoreWarehouse, values: T[]) => Promise<void>;
}

/**
 * The events topic: protobuf `mamori.v1.Event` records into `events`. Each record becomes its
 * row as it is read, straight from its bytes (no decoding into objects); a malformed event,
 * or one without the tenant and id ingest stamps, goes to dead letters.
 */
export function eventsStream(
  topic: string,
  partitions: number,
  encoder?: EventRowEncoder,
): StoreStream<Buffer> {
  return {
    name: 'events',
    topic,
    partitions,
    decode: (record) => encodeEventRow(record.value),
    // With an encoder the rows are made on its thread, off the thread that also runs ingest
    // and the API in `mamori start`.
    ...(encoder
      ? { decodeBatch: (records) => encoder.encode(records.map((record) => record.value)) }
      : {}),
    insert: (warehouse, rows) => warehouse.insertEventRows(rows),
  };
}

/**
 * The agents topic: ingest's `mamori.v1.AgentStatus` records (hello, heartbeats, end of
 * stream) into `agents`, where the newest status of each agent wins.
 */
export function agentsStream(topic: string): StoreStream<AgentInput> {
  const type = protoType('mamori.v1.AgentStatus');
  return {
    name: 'agents',
    topic,
    partitions: 1,
    decode(record) {
      const status = type.toObject(type.decode(record.value), {
        longs: Number,
        defaults: true,
        arrays: true,
      }) as AgentStatus__Output;
      for (const field of ['tenant_id', 'agent_id'] as const) {
        if (status[field] === '') {
          throw new MamoriError(ErrorCode.BusDecode, `the agent status has no ${field}`, {
            context: { field },
          });
        }
      }
      return {
        tenantId: status.tenant_id,
        agentId: status.agent_id,
        lastSeenUnixMicros: status.seen_unix_micros,
        hostname: status.hostname,
        agentVersion: status.agent_version,
        capabilities: status.capabilities,
        policyVersion: status.policy_version,
        connected: status.connected,
      };
    },
    insert: (warehouse, agents) => warehouse.upsertAgents(agents),
  };
}

/** `mamori.v1.Severity` names → the warehouse's severities. */
const SEVERITIES: Record<string, AlertSeverity> = {
  SEVERITY_INFO: 'info',
  SEVERITY_LOW: 'low',
  SEVERITY_MEDIUM: 'medium',
  SEVERITY_HIGH: 'high',
  SEVERITY_CRITICAL: 'critical',
};

/**
 * The alerts topic: detectors' `mamori.v1.Alert` records into `alerts`. An alert keeps the
 * status an analyst gave it when a replay inserts it again (see the warehouse). An alert
 * without id, tenant, rule or severity goes to dead letters.
 */
export function alertsStream(topic: string, partitions: number): StoreStream<AlertInput> {
  return {
    name: 'alerts',
    topic,
    partitions,
    decode(record) {
      const alert = decodeMessage<Alert__Output>('mamori.v1.Alert', record.value);
      for (const field of ['id', 'tenant_id', 'rule_id'] as const) {
        if (alert[field] === '') {
          throw new MamoriError(ErrorCode.BusDecode, `the alert has no ${field}`, {
            context: { field },
          });
        }
      }
      const severity = SEVERITIES[alert.severity];
      if (severity === undefined) {
        throw new MamoriError(ErrorCode.BusDecode, 'the alert has no severity', {
          context: { field: 'severity' },
        });
      }
      const workload = alert.workload;
      return {
        id: alert.id,
        tenantId: alert.tenant_id,
        observedUnixMicros: alert.observed_unix_micros,
        ruleId: alert.rule_id,
        ruleName: alert.rule_name,
        severity,
        title: alert.title,
        agentId: alert.agent_id,
        eventId: alert.event_id,
        hostname: alert.hostname,
        namespace: workload?.namespace ?? '',
        podName: workload?.pod_name ?? '',
        containerId: workload?.container_id ?? '',
        imageRepository: workload?.image_repository ?? '',
        tags: alert.tags,
        details: alert.details,
      };
    },
    insert: (warehouse, alerts) => warehouse.insertAlerts(alerts),
  };
}
