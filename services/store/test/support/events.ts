import { randomBytes } from 'node:crypto';
import type { Bus } from '@mamori/bus';
import { createEventCodec, type Event } from '@mamori/proto';

const codec = createEventCodec();
let counter = 0;

/** A process_exec event of `tenant`, observed now, as ingest would have stamped it. */
export function testEvent(tenant: string, overrides: Partial<Event> = {}): Event {
  counter++;
  const now = Date.now() * 1000;
  return {
    id: `evt-${process.pid}-${counter}`,
    tenant_id: tenant,
    agent_id: 'node-1',
    observed_unix_micros: now,
    received_unix_micros: now + 1000,
    host: { hostname: 'node-1.city-a' },
    process_exec: {
      process: {
        pid: 1000 + counter,
        ppid: 1,
        name: 'sh',
        exe: '/bin/sh',
        args: ['sh', '-c', 'id'],
      },
    },
    ...overrides,
  };
}

/** Produces events as ingest does: protobuf bytes keyed by `<tenant>/<agent>`. */
export async function produceEvents(bus: Bus, topic: string, events: Event[]): Promise<void> {
  await bus.produce(
    topic,
    events.map((event) => ({
      key: Buffer.from(`${event.tenant_id}/${event.agent_id}`),
      value: codec.encode(event),
    })),
  );
}

/** A fresh name (topic, group, tenant) so that tests never meet. */
export function unique(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

/** The sum of a group's committed offsets on a topic: records it has stored. */
export async function committedCount(bus: Bus, groupId: string, topic: string): Promise<number> {
  const offsets = await bus.committed(groupId, topic);
  return offsets.reduce((sum, { offset }) => sum + offset, 0);
}

/**
 * The event id of a row the store handed to the warehouse: its fourth RowBinary column, after
 * tenant (string), observed time (8 bytes) and agent (string). Test strings are short: one-byte
 * lengths.
 */
export function rowId(row: Uint8Array): string {
  let at = 1 + row[0]! + 8;
  at += 1 + row[at]!;
  return Buffer.from(row.subarray(at + 1, at + 1 + row[at]!)).toString('utf8');
}
