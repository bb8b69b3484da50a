import { isMamoriError } from '@mamori/common';
import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor } from '../src/cursor.js';
import { EVENT_INSERT_COLUMNS, eventToRow, eventToValues } from '../src/index.js';
import { execEvent, fileEvent, httpEvent, T0 } from './support/fixtures.js';

describe('eventToRow', () => {
  it('maps a process event to typed columns and keeps the payload as an object', () => {
    const row = eventToRow(execEvent({ tenant: 't', id: 'e1', args: ['sh', '-c', 'id'] }));
    expect(row).toMatchObject({
      tenant_id: 't',
      id: 'e1',
      observed_at: T0,
      kind: 'process_exec',
      namespace: 'citizens',
      process_name: 'curl',
      command_line: 'sh -c id',
      path: '/usr/bin/curl',
      labels: { sensor: 'ebpf' },
      payload: { process: expect.objectContaining({ args: ['sh', '-c', 'id'] }) },
    });
  });

  it('takes the file path of file events and leaves workload columns empty on the host', () => {
    const row = eventToRow(fileEvent({ tenant: 't', path: '/etc/shadow', workload: null }));
    expect(row).toMatchObject({
      path: '/etc/shadow',
      container_id: '',
      namespace: '',
      pod_name: '',
    });
  });

  it('writes request bodies as base64, not as arrays of numbers', () => {
    const row = eventToRow(httpEvent({ tenant: 't', body: Buffer.from([0, 1, 2, 255]) }));
    expect(JSON.stringify(row.payload)).toContain('"body":"AAEC/w=="');
    expect(row).toMatchObject({ process_name: '', command_line: '', path: '' });
  });

  it('gives the values in insert-column order', () => {
    const event = execEvent({ tenant: 't' });
    const row = eventToRow(event);
    expect(eventToValues(event)).toEqual(EVENT_INSERT_COLUMNS.map((c) => row[c]));
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
