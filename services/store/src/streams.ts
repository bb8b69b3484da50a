import type { BusRecord } from '@mamori/bus';
import { ErrorCode, MamoriError } from '@mamori/common';
import { protoType, type AgentStatus__Output } from '@mamori/proto';
import { encodeEventRow, type AgentInput, type Warehouse } from '@mamori/warehouse';

/** What of the warehouse the store writes with. */
export type StoreWarehouse = Pick<Warehouse, 'insertEventRows' | 'insertAlerts' | 'upsertAgents'>;

/**
 * One topic the store copies into the warehouse: how its records decode and how a batch of
 * them is inserted. Storing another topic (alerts, once they have a wire format) is one more
 * definition:
 * `{ name: 'alerts', topic, partitions, decode, insert: (w, alerts) => w.insertAlerts(alerts) }`.
 */
export interface StoreStream<T> {
  /** Short name for logs. */
  name: string;
  topic: string;
  /** Partitions of the topic when the store is first to create it. */
  partitions: number;
  /** Decodes one record; a throw sends it to the topic's dead letters. Synchronous. */
  decode: (record: BusRecord) => T;
  /** Inserts a batch; must be idempotent (it is retried, and records may be redelivered). */
  insert: (warehouse: StoreWarehouse, values: T[]) => Promise<void>;
}

/**
 * The events topic: protobuf `mamori.v1.Event` records into `events`. Each record becomes its
 * row as it is read, straight from its bytes (no decoding into objects); a malformed event,
 * or one without the tenant and id ingest stamps, goes to dead letters.
 */
export function eventsStream(topic: string, partitions: number): StoreStream<Buffer> {
  return {
    name: 'events',
    topic,
    partitions,
    decode: (record) => encodeEventRow(record.value),
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
