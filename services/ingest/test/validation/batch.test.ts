import { describe, expect, it } from 'vitest';
import { createEventCodec, type Event } from '@mamori/proto';
import { validateBatch, type ValidationLimits } from '../../src/validation/batch.js';
import type { WireBatch } from '../../src/wire/agent-message.js';

const NOW = 1_764_000_000_000_000;
const limits: ValidationLimits = {
  maxBatchEvents: 10,
  maxEventBytes: 4096,
  maxIdLength: 64,
  maxFutureMicros: 300_000_000,
  maxAgeMicros: 3_600_000_000,
  maxLabels: 4,
};
const codec = createEventCodec();

function exec(id: string, overrides: Partial<Event> = {}): Event {
  return {
    id,
    observed_unix_micros: NOW - 1000,
    process_exec: { process: { pid: 42, ppid: 1, name: 'sh', exe: '/bin/sh', args: ['sh'] } },
    ...overrides,
  };
}

const batch = (events: (Event | Buffer)[], sequence = 1): WireBatch => {
  const encoded = events.map((e) => (Buffer.isBuffer(e) ? e : codec.encode(e)));
  return {
    sequence,
    events: encoded,
    bytes: encoded.reduce((n, e) => n + e.length, 0),
    droppedLow: 0,
    droppedHigh: 0,
  };
};

describe('validateBatch', () => {
  it('accepts a well-formed batch and tells each event kind', () => {
    const verdict = validateBatch(
      batch([
        exec('a'),
        {
          id: 'b',
          observed_unix_micros: NOW,
          dns_query: { query: 'example.gov', query_type: 'A' },
        },
      ]),
      limits,
      NOW,
    );
    expect(verdict).toEqual({
      valid: [
        { index: 0, kind: 'process_exec' },
        { index: 1, kind: 'dns_query' },
      ],
      rejections: [],
    });
  });

  it('accepts file changes without a process (inotify cannot name it), but not without a path', () => {
    const verdict = validateBatch(
      batch([
        { id: 'w', observed_unix_micros: NOW, file_write: { path: '/etc/shadow' } },
        { id: 'r', observed_unix_micros: NOW, file_rename: { old_path: '/a', new_path: '/b' } },
        { id: 'd', observed_unix_micros: NOW, file_delete: { path: '/etc/sudoers' } },
        { id: 'x', observed_unix_micros: NOW, file_delete: {} },
      ]),
      limits,
      NOW,
    );
    expect(verdict.valid.map((v) => v.kind)).toEqual(['file_write', 'file_rename', 'file_delete']);
    expect(verdict.rejections).toEqual([
      expect.objectContaining({ index: 3, field: 'events[3].file_delete.path' }),
    ]);
  });

  it('refuses the whole batch when its sequence is missing', () => {
    const verdict = validateBatch(batch([exec('a')], 0), limits, NOW);
    expect(verdict.batchError).toMatchObject({ index: -1, field: 'sequence' });
    expect(verdict.valid).toEqual([]);
  });

  it('refuses an empty batch and one over the event limit, naming the field', () => {
    expect(validateBatch(batch([]), limits, NOW).batchError?.field).toBe('events');
    const many = Array.from({ length: 11 }, (_, i) => exec(`e${i}`));
    expect(validateBatch(batch(many), limits, NOW).batchError?.reason).toMatch(
      /11 events, more than the limit of 10/,
    );
  });

  it('refuses only the invalid events and names the field of each', () => {
    const verdict = validateBatch(
      batch([
        exec('ok'),
        exec(''),
        exec('future', { observed_unix_micros: NOW + 3_600_000_000 }),
        exec('old', { observed_unix_micros: NOW - 7_200_000_000 }),
        exec('bad id with spaces'),
        { id: 'nopayload', observed_unix_micros: NOW },
      ]),
      limits,
      NOW,
    );
    expect(verdict.valid).toEqual([{ index: 0, kind: 'process_exec' }]);
    expect(verdict.rejections.map((r) => [r.index, r.field])).toEqual([
      [1, 'events[1].id'],
      [2, 'events[2].observed_unix_micros'],
      [3, 'events[3].observed_unix_micros'],
      [4, 'events[4].id'],
      [5, 'events[5].payload'],
    ]);
    expect(verdict.rejections[1]).toMatchObject({
      event_id: 'future',
      reason: expect.stringMatching(/in the future/),
    });
  });

  it('checks the required fields of each payload kind', () => {
    const noPid = exec('p', { process_exec: { process: { pid: 0, exe: '/bin/sh' } } });
    const noName = exec('x', { process_exec: { process: { pid: 3, exe: '/bin/sh' } } });
    const noExe = exec('y', { process_exec: { process: { pid: 4, name: 'sh' } } });
    const badConnect: Event = {
      id: 'n',
      observed_unix_micros: NOW,
      network_connect: {
        process: { pid: 7 },
        connection: {
          protocol: 'L4_PROTOCOL_TCP',
          local_port: 1,
          remote_address: '',
          remote_port: 443,
        },
      },
    };
    const noProtocol: Event = {
      id: 'np',
      observed_unix_micros: NOW,
      network_listen: { process: { pid: 7 }, connection: { local_port: 80 } },
    };
    const badStatus: Event = {
      id: 'h',
      observed_unix_micros: NOW,
      http_response: { request_id: 'r', status: 42 },
    };
    const badFinding: Event = {
      id: 'f',
      observed_unix_micros: NOW,
      scanner_finding: { scanner: 'image', target: 'img', rule_id: 'CVE-2024-3094' },
    };
    const verdict = validateBatch(
      batch([noPid, noName, badConnect, noProtocol, badStatus, badFinding, noExe]),
      limits,
      NOW,
    );
    expect(verdict.rejections.map((r) => `${r.field}: ${r.reason}`)).toEqual([
      'events[0].process_exec.process.pid: must be a positive process id',
      'events[1].process_exec.process.name: is required',
      'events[2].network_connect.connection.remote_address: is required',
      'events[3].network_listen.connection.protocol: must be L4_PROTOCOL_TCP or L4_PROTOCOL_UDP',
      'events[4].http_response.status: must be an HTTP status (100-599)',
      'events[5].scanner_finding.severity: must be set',
    ]);
  });

  it('accepts the runtime kinds of links, modules, ptrace, sockets and dup, and checks their fields', () => {
    const at = (id: string, payload: Partial<Event>): Event => ({
      id,
      observed_unix_micros: NOW,
      ...payload,
    });
    const process = { pid: 9, name: 'sh' };
    const verdict = validateBatch(
      batch([
        at('l', { file_link: { process, target: '/etc/shadow', link_path: '/tmp/s' } }),
        at('s', { file_symlink: { process, target: '/etc', link_path: '/tmp/e' } }),
        at('m', { kernel_module_load: { process, name: 'nf_tables' } }),
        at('p', { process_ptrace: { process, request: 'PTRACE_TRACEME' } }),
        at('k', { network_socket: { process, domain: 'AF_PACKET', type: 3, protocol: 768 } }),
        at('d', { fd_dup: { process, old_fd: 3, new_fd: 0, fd_type: 'ipv4' } }),
        at('nolink', { file_link: { process, target: '/etc/shadow' } }),
        at('nomod', { kernel_module_load: { process, path: '/tmp/x.ko' } }),
        at('noreq', { process_ptrace: { process, target_pid: 7 } }),
        at('nodomain', { network_socket: { process, type: 3 } }),
        at('badfd', { fd_dup: { process, old_fd: 3, new_fd: -1 } }),
        at('nopid', { file_symlink: { target: '/etc', link_path: '/tmp/e' } }),
      ]),
      { ...limits, maxBatchEvents: 20 },
      NOW,
    );
    expect(verdict.valid).toEqual([
      { index: 0, kind: 'file_link' },
      { index: 1, kind: 'file_symlink' },
      { index: 2, kind: 'kernel_module_load' },
      { index: 3, kind: 'process_ptrace' },
      { index: 4, kind: 'network_socket' },
      { index: 5, kind: 'fd_dup' },
    ]);
    expect(verdict.rejections.map((r) => `${r.field}: ${r.reason}`)).toEqual([
      'events[6].file_link.link_path: is required',
      'events[7].kernel_module_load.name: is required',
      'events[8].process_ptrace.request: is required',
      'events[9].network_socket.domain: is required',
      'events[10].fd_dup.new_fd: must be a descriptor number (0 or more)',
      'events[11].file_symlink.process: is required',
    ]);
  });

  it('refuses bytes that are not a well-formed event, naming the field', () => {
    const good = codec.encode(exec('t'));
    const truncated = good.subarray(0, good.length - 3);
    // Field 6 (host) is a message; send it as a varint.
    const wrongType = Buffer.concat([codec.encode(exec('w')), Buffer.from([(6 << 3) | 0, 1])]);
    const group = Buffer.concat([codec.encode(exec('g')), Buffer.from([(9 << 3) | 3])]);
    const verdict = validateBatch(batch([truncated, wrongType, group, good]), limits, NOW);
    expect(verdict.valid).toEqual([{ index: 3, kind: 'process_exec' }]);
    expect(verdict.rejections[0]?.reason).toMatch(/^malformed protobuf: /);
    expect(verdict.rejections[1]).toMatchObject({
      field: 'events[1].host',
      reason: 'malformed protobuf: has wire type varint, expected length-delimited',
    });
    expect(verdict.rejections[2]?.reason).toMatch(/group start/);
  });

  it('refuses an event over the size limit', () => {
    const verdict = validateBatch(
      batch([exec('big', { labels: { blob: 'x'.repeat(5000) } })]),
      limits,
      NOW,
    );
    expect(verdict.rejections[0]).toMatchObject({
      field: 'events[0]',
      reason: expect.stringMatching(/more than the limit of 4096/),
    });
  });

  it('refuses a repeated event id within one batch after its first use', () => {
    const verdict = validateBatch(batch([exec('same'), exec('same')]), limits, NOW);
    expect(verdict.valid).toEqual([{ index: 0, kind: 'process_exec' }]);
    expect(verdict.rejections[0]).toMatchObject({ index: 1, field: 'events[1].id' });
  });

  it('refuses too many labels', () => {
    const verdict = validateBatch(
      batch([exec('l', { labels: { a: '1', b: '2', c: '3', d: '4', e: '5' } })]),
      limits,
      NOW,
    );
    expect(verdict.rejections[0]?.field).toBe('events[0].labels');
  });
});
