import { isMamoriError } from '@mamori/common';
import { createEventCodec, type Event, type Event__Output } from '@mamori/proto';
import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor } from '../src/cursor.js';
import {
  EVENT_ROW_COLUMNS,
  EVENT_ROW_STRUCTURE,
  encodeEventRow,
  storedPayload,
} from '../src/index.js';
import { execEvent, fileEvent, httpEvent, T0 } from '../src/testing/index.js';

const codec = createEventCodec();

type Column = (typeof EVENT_ROW_COLUMNS)[number];
type Value = Buffer | number | boolean | Record<string, string>;

/** Reads one RowBinary row the way ClickHouse does, column types from EVENT_ROW_STRUCTURE. */
function parseRow(row: Buffer): Record<Column, Value> {
  let at = 0;
  const length = (): number => {
    let value = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = row[at++];
      if (byte === undefined) throw new Error(`row ends inside a length at ${at}`);
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return value;
    }
  };
  const string = (): Buffer => {
    const n = length();
    at += n;
    return row.subarray(at - n, at);
  };
  const fields = {} as Record<Column, Value>;
  for (const column of EVENT_ROW_COLUMNS) {
    const type = new RegExp(`(?:^|, )${column} (\\w+)`).exec(EVENT_ROW_STRUCTURE)![1];
    if (type === 'DateTime64') {
      fields[column] = Number(row.readBigInt64LE(at));
      at += 8;
    } else if (type === 'Bool') {
      fields[column] = row[at++] === 1;
    } else if (type === 'Int32') {
      fields[column] = row.readInt32LE(at);
      at += 4;
    } else if (type === 'Map') {
      const map: Record<string, string> = {};
      for (let n = length(); n > 0; n--) map[string().toString()] = string().toString();
      fields[column] = map;
    } else {
      fields[column] = string();
    }
  }
  expect(at).toBe(row.length);
  return fields;
}

function text(fields: Record<string, Value>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(fields).map(([k, v]) => [k, Buffer.isBuffer(v) ? v.toString('utf8') : v]),
  );
}

describe('encodeEventRow', () => {
  it('writes the typed columns of a process event and its bytes last', () => {
    const event = execEvent({ tenant: 't', id: 'e1', args: ['sh', '-c', 'id'] });
    const bytes = codec.encode(event);
    const fields = parseRow(encodeEventRow(bytes));
    expect(text(fields)).toMatchObject({
      tenant_id: 't',
      id: 'e1',
      agent_id: 'node-1',
      observed_at: T0,
      kind: 'process_exec',
      hostname: 'node-1.city-a',
      namespace: 'citizens',
      pod_name: 'portal-7d9f',
      container_id: 'c0ffee01',
      container_runtime: 'containerd',
      privileged: false,
      image_repository: 'registry.example.gov/city/portal',
      process_name: 'curl',
      pid: 4242,
      command_line: 'sh -c id',
      path: '/usr/bin/curl',
      labels: { sensor: 'ebpf' },
    });
    expect((fields.event as Buffer).equals(bytes)).toBe(true);
  });

  it('takes the path of file events and leaves workload columns empty on the host', () => {
    const fields = text(
      parseRow(
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

  it('writes the process of the runtime kinds and the path a link or module load names', () => {
    const process = { pid: 777, name: 'ln', args: ['ln', '-s', '/etc', '/tmp/e'] };
    const row = (payload: Partial<Event>) =>
      text(
        parseRow(
          encodeEventRow(
            codec.encode({ id: 'r1', tenant_id: 't', observed_unix_micros: T0, ...payload }),
          ),
        ),
      );
    expect(row({ file_symlink: { process, target: '/etc', link_path: '/tmp/e' } })).toMatchObject({
      kind: 'file_symlink',
      process_name: 'ln',
      pid: 777,
      command_line: 'ln -s /etc /tmp/e',
      path: '/tmp/e',
    });
    expect(
      row({ file_link: { process, target: '/etc/shadow', link_path: '/tmp/s' } }),
    ).toMatchObject({ kind: 'file_link', process_name: 'ln', path: '/tmp/s' });
    expect(
      row({
        kernel_module_load: { process, name: 'nf_tables', path: '/lib/modules/nf_tables.ko' },
      }),
    ).toMatchObject({ kind: 'kernel_module_load', pid: 777, path: '/lib/modules/nf_tables.ko' });
    // A module loaded from memory has no file.
    expect(row({ kernel_module_load: { process, name: 'ghost' } })).toMatchObject({ path: '' });
    for (const payload of [
      { process_ptrace: { process, request: 'PTRACE_ATTACH', target_pid: 1 } },
      { network_socket: { process, domain: 'AF_PACKET', type: 3, protocol: 768 } },
      { fd_dup: { process, old_fd: 3, new_fd: 1, fd_type: 'file', fd_name: '/tmp/out' } },
    ]) {
      expect(row(payload)).toMatchObject({
        kind: Object.keys(payload)[0],
        process_name: 'ln',
        pid: 777,
        path: '',
      });
    }
  });

  it('keeps tabs, newlines, backslashes and quotes as they are', () => {
    const event: Event__Output = {
      ...execEvent({ tenant: 't', name: 'a\tb', args: ['echo', 'x\ny', 'back\\slash', "it's"] }),
      labels: { "k'ey": 'v\\al\tue' },
    };
    const bytes = codec.encode(event);
    const fields = parseRow(encodeEventRow(bytes));
    expect(text(fields)).toMatchObject({
      process_name: 'a\tb',
      command_line: "echo x\ny back\\slash it's",
      labels: { "k'ey": 'v\\al\tue' },
    });
    expect((fields.event as Buffer).equals(bytes)).toBe(true);
  });

  it('writes long strings with multi-byte lengths, and binary bodies byte for byte', () => {
    const long = `--data=${'x'.repeat(20_000)}`;
    const exec = codec.encode(execEvent({ tenant: 't', args: ['curl', long] }));
    expect(text(parseRow(encodeEventRow(exec)))).toMatchObject({ command_line: `curl ${long}` });
    const http = codec.encode(httpEvent({ tenant: 't', body: Buffer.from([0, 0xff, 0x0a, 0x09]) }));
    expect((parseRow(encodeEventRow(http)).event as Buffer).equals(http)).toBe(true);
  });

  it('reads what ingest appended last: the stamp wins over what the agent wrote', () => {
    const original = codec.encode(execEvent({ tenant: 'forged', agent: 'forged-agent' }));
    const stamp = codec.encode({
      tenant_id: 'city-a',
      agent_id: 'node-9',
      received_unix_micros: T0 + 5,
    });
    const fields = text(parseRow(encodeEventRow(Buffer.concat([original, stamp]))));
    expect(fields).toMatchObject({ tenant_id: 'city-a', agent_id: 'node-9' });
  });

  it('writes negative pids and the last of repeated label keys', () => {
    const event = execEvent({ tenant: 't' });
    event.process_exec!.process!.pid = -5;
    const first = codec.encode(event);
    const relabel = codec.encode({ labels: { sensor: 'proc' } });
    expect(text(parseRow(encodeEventRow(Buffer.concat([first, relabel]))))).toMatchObject({
      pid: -5,
      labels: { sensor: 'proc' },
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
