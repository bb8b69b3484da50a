import type { BusRecord } from '@mamori/bus';
import { ErrorCode, MamoriError } from '@mamori/common';
import { createEventCodec, type Event__Output } from '@mamori/proto';
import type { Warehouse } from '@mamori/warehouse';

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
    warehouse: Pick<Warehouse, 'insertEvents' | 'insertAlerts'>,
    values: T[],
  ) => Promise<void>;
}

/** The events topic: protobuf `mamori.v1.Event` records into `events`. */
export function eventsStream(topic: string, partitions: number): StoreStream<Event__Output> {
  const codec = createEventCodec();
  return {
    name: 'events',
    topic,
    partitions,
    decode(record) {
      const event = codec.decode(record.value);
      // Ingest stamps both; an event without them could never be queried or deduplicated.
      for (const field of ['tenant_id', 'id'] as const) {
        if (event[field] === '') {
          throw new MamoriError(ErrorCode.BusDecode, `the event has no ${field}`, {
            context: { field },
          });
        }
      }
      return event;
    },
    insert: (warehouse, events) => warehouse.insertEvents(events),
  };
}
