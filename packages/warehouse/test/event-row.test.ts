import { isMamoriError } from '@mamori/common';
import { createEventCodec, type Event__Output } from '@mamori/proto';
import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor } from '../src/cursor.js';
import { EVENT_TSV_COLUMNS, encodeEventRow, storedPayload } from '../src/index.js';
import { execEvent, fileEvent, httpEvent, T0 } from '../src/testing/index.js';

const codec = createEventCodec();

/** Splits a TabSeparated line into its fields and undoes the escapes, as ClickHouse reads it. */
function parseLine(line: Buffer): Record<(typeof EVENT_TSV_COLUMNS)[number], Buffer> {
  expect(line.at(-1)).toBe(0x0a);
  const fields: Buffer[] = [];
  let current: number[] = [];
  const unescape: Record<string, number> = { '0': 0, b: 8, t: 9, n: 10, f: 12, r: 13 };
  for (let i = 0; i < line.length - 1; i++) {
    const byte = line[i]!;
    if (byte === 0x09) {
      fields.push(Buffer.from(current));
      current = [];
    } else if (byte === 0x0a) {
      throw new Error(`raw newline inside the line at ${i}`);
    } else if (byte === 0x5c) {
      const next = String.fromCharCode(line[++i]!);
      current.push(unescape[next] ?? next.charCodeAt(0));
    } else {
      current.push(byte);
    }
  }
  fields.push(Buffer.from(current));
  expect(fields).toHaveLength(EVENT_TSV_COLUMNS.length);
  return Object.fromEntries(EVENT_TSV_COLUMNS.map((c, i) => [c, fields[i]!])) as never;
}

function text(fields: Record<string, Buffer>): Record<string, string> {
  return Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, v.toString('utf8')]));
}

describe('encodeEventRow', () => {
  it('writes the typed columns of a process event and its bytes last', () => {
    const event = execEvent({ tenant: 't', id: 'e1', args: ['sh', '-c', 'id'] });
    const bytes = codec.encode(event);
    const fields = parseLine(encodeEventRow(bytes));
    expect(text(fields)).toMatchObject({
      tenant_id: 't',
      id: 'e1',
      agent_id: 'node-1',
      observed_at: `${Math.floor(T0 / 1e6)}.${String(T0 % 1e6).padStart(6, '0')}`,
      kind: 'process_exec',
      hostname: 'node-1.city-a',
      namespace: 'citizens',
      pod_name: 'portal-7d9f',
      container_id: 'c0ffee01',
      container_runtime: 'containerd',
      privileged: 'false',
      image_repository: 'registry.example.gov/city/portal',
      process_name: 'curl',
      pid: '4242',
      command_line: 'sh -c id',
      path: '/usr/bin/curl',
      labels: "{'sensor':'ebpf'}",
    });
    expect(fields.event.equals(bytes)).toBe(true);
  });

  it('takes the path of file events and leaves workload columns empty on the host', () => {
    const fields = text(
      parseLine(
        encodeEventRow(
          codec.encode(fileEvent({ tenant: 't', path: '/etc/shadow', workload: null })),
        ),
      ),
    );
    expect(fields).toMatchObject({
      path: '/etc/shadow',
      container_id: '',
      namespace: '',
      pod_name: '',
    });
  });

  it('escapes tabs, newlines, backslashes and quotes wherever they appear', () => {
    const event: Event__Output = {
      ...execEvent({ tenant: 't', name: 'a\tb', args: ['echo', 'x\ny', 'back\\slash', "it's"] }),
      labels: { "k'ey": 'v\\al\tue' },
    };
    const bytes = codec.encode(event);
    const line = encodeEventRow(bytes);
    const fields = parseLine(line);
    expect(text(fields)).toMatchObject({
      process_name: 'a\tb',
      command_line: "echo x\ny back\\slash it's",
    });
    // A Map's keys and values are quoted strings, read with one level of escapes.
    expect(line.toString()).toContain(String.raw`{'k\'ey':'v\\al\tue'}`);
    expect(fields.event.equals(bytes)).toBe(true);
  });

  it('reads what ingest appended last: the stamp wins over what the agent wrote', () => {
    const original = codec.encode(execEvent({ tenant: 'forged', agent: 'forged-agent' }));
    const stamp = codec.encode({
      tenant_id: 'city-a',
      agent_id: 'node-9',
      received_unix_micros: T0 + 5,
    });
    const fields = text(parseLine(encodeEventRow(Buffer.concat([original, stamp]))));
    expect(fields).toMatchObject({ tenant_id: 'city-a', agent_id: 'node-9' });
  });

  it('writes negative pids and the last of repeated label keys', () => {
    const event = execEvent({ tenant: 't' });
    event.process_exec!.process!.pid = -5;
    const first = codec.encode(event);
    const relabel = codec.encode({ labels: { sensor: 'proc' } });
    expect(text(parseLine(encodeEventRow(Buffer.concat([first, relabel]))))).toMatchObject({
      pid: '-5',
      labels: "{'sensor':'proc'}",
    });
  });

  it('refuses malformed bytes naming the field, and events without tenant or id', () => {
    const bytes = codec.encode(execEvent({ tenant: 't' }));
    const cases: [Uint8Array, string][] = [
      [bytes.subarray(0, bytes.length - 3), ''],
      [codec.encode(execEvent({ tenant: '' })), 'tenant_id'],
      [codec.encode(execEvent({ tenant: 't', id: '' })), 'id'],
      [Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]), 'id'],
    ];
    for (const [input, field] of cases) {
      let error: unknown;
      try {
        encodeEventRow(input);
      } catch (err) {
        error = err;
      }
      expect(isMamoriError(error, 'MAMORI_BUS_DECODE')).toBe(true);
      if (field !== '') {
        expect((error as { context: { field: string } }).context.field).toBe(field);
      }
    }
  });
});

describe('storedPayload', () => {
  it('rebuilds the payload from the bytes, request bodies as base64', () => {
    const event = httpEvent({ tenant: 't', body: Buffer.from([0, 1, 2, 255]) });
    const payload = storedPayload(codec.encode(event).toString('base64'));
    expect(JSON.stringify(payload)).toContain('"body":"AAEC/w=="');
    expect(payload).toMatchObject({ method: 'POST', url: '/login' });
  });
});

describe('cursors', () => {
  it('round-trip the sort key of a listing', () => {
    const cursor = encodeCursor([T0, 'node-1', 'id\'with"quotes']);
    expect(decodeCursor(cursor, ['number', 'string', 'string'] as const)).toEqual([
      T0,
      'node-1',
      'id\'with"quotes',
    ]);
  });

  it('refuse a cursor of another shape or garbage', () => {
    for (const cursor of [encodeCursor(['x']), encodeCursor([1.5, 'a', 'b']), '%%%', '']) {
      let error: unknown;
      try {
        decodeCursor(cursor, ['number', 'string', 'string'] as const);
      } catch (err) {
        error = err;
      }
      expect(isMamoriError(error, 'MAMORI_VALIDATION')).toBe(true);
    }
  });
});
