import type { BusRecord } from '@mamori/bus';
import { encodeEventRow, type Warehouse } from '@mamori/warehouse';

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
  insert: (
    warehouse: Pick<Warehouse, 'insertEventRows' | 'insertAlerts'>,
    values: T[],
  ) => Promise<void>;
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
