import { describe, expect, it } from 'vitest';
import type { Event__Output, EventBatch__Output } from '@mamori/proto';
import { validateBatch, type ValidationLimits } from '../../src/validation/batch.js';

const NOW = 1_764_000_000_000_000;
const limits: ValidationLimits = {
  maxBatchEvents: 10,
  maxIdLength: 64,
  maxFutureMicros: 300_000_000,
  maxAgeMicros: 3_600_000_000,
  maxLabels: 4,
};

function exec(id: string, overrides: Partial<Event__Output> = {}): Event__Output {
  return {
    id,
    tenant_id: '',
    agent_id: '',
    observed_unix_micros: NOW - 1000,
    received_unix_micros: 0,
    host: null,
    workload: null,
    labels: {},
    payload: 'process_exec',
    process_exec: {
      process: {
        pid: 42,
        ppid: 1,
        name: 'sh',
        exe: '/bin/sh',
        args: ['sh'],
        cwd: '/',
        uid: 0,
        gid: 0,
        user: 'root',
        tty: '',
        start_unix_micros: 0,
        ancestors: [],
        login_uid: -1,
        exe_hash: '',
      },
    },
    ...overrides,
  };
}

const batch = (events: Event__Output[], sequence = 1): EventBatch__Output => ({ sequence, events });

describe('validateBatch', () => {
  it('accepts a well-formed batch', () => {
    const verdict = validateBatch(batch([exec('a'), exec('b')]), limits, NOW);
    expect(verdict).toEqual({ valid: [0, 1], rejections: [] });
  });

  it('refuses the whole batch when its sequence is missing', () => {
    const verdict = validateBatch(batch([exec('a')], 0), limits, NOW);
    expect(verdict.batchError).toMatchObject({ index: -1, field: 'sequence' });
    expect(verdict.valid).toEqual([]);
  });

  it('refuses an empty batch and one over the event limit, naming the field', () => {
    expect(validateBatch(batch([]), limits, NOW).batchError?.field).toBe('events');
    const many = Array.from({ length: 11 }, (_, i) => exec(`e${i}`));
    expect(validateBatch(batch(many), limits, NOW).batchError?.reason).toMatch(/11 events, more than the limit of 10/);
  });

  it('refuses only the invalid events and names the field of each', () => {
    const verdict = validateBatch(
      batch([
        exec('ok'),
        exec(''),
        exec('future', { observed_unix_micros: NOW + 3_600_000_000 }),
        exec('old', { observed_unix_micros: NOW - 7_200_000_000 }),
        exec('bad id with spaces'),
        exec('nopayload', { payload: undefined, process_exec: null }),
      ]),
      limits,
      NOW,
    );
    expect(verdict.valid).toEqual([0]);
    expect(verdict.rejections.map((r) => [r.index, r.field])).toEqual([
      [1, 'events[1].id'],
      [2, 'events[2].observed_unix_micros'],
      [3, 'events[3].observed_unix_micros'],
      [4, 'events[4].id'],
      [5, 'events[5].payload'],
    ]);
    expect(verdict.rejections[1]?.reason).toMatch(/in the future/);
  });

  it('checks the required fields of each payload kind', () => {
    const noPid = exec('p');
    noPid.process_exec!.process!.pid = 0;
    const badConnect = exec('n', {
      payload: 'network_connect',
      process_exec: null,
      network_connect: {
        process: noPid.process_exec!.process && { ...noPid.process_exec!.process, pid: 7 },
        connection: { protocol: 'L4_PROTOCOL_TCP', local_address: '', local_port: 1, remote_address: '', remote_port: 443 },
      },
    });
    const badStatus = exec('h', {
      payload: 'http_response',
      process_exec: null,
      http_response: { request_id: 'r', status: 42, headers: [], body_size: 0, latency_micros: 0 },
    });
    const verdict = validateBatch(batch([noPid, badConnect, badStatus]), limits, NOW);
    expect(verdict.rejections.map((r) => r.field)).toEqual([
      'events[0].process_exec.process.pid',
      'events[1].network_connect.connection.remote_address',
      'events[2].http_response.status',
    ]);
  });

  it('refuses a repeated event id within one batch after its first use', () => {
    const verdict = validateBatch(batch([exec('same'), exec('same')]), limits, NOW);
    expect(verdict.valid).toEqual([0]);
    expect(verdict.rejections[0]).toMatchObject({ index: 1, field: 'events[1].id' });
  });

  it('refuses too many labels', () => {
    const verdict = validateBatch(batch([exec('l', { labels: { a: '1', b: '2', c: '3', d: '4', e: '5' } })]), limits, NOW);
    expect(verdict.rejections[0]?.field).toBe('events[0].labels');
  });
});
