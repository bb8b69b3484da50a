import { describe, expect, it } from 'vitest';
import type { Event__Output } from '@mamori/proto';
import { resolveField, sigmaFieldNames, type SigmaCategory } from '../../src/sigma/fields.js';
import { buildEvent } from '../support/events.js';

const process = {
  pid: 300,
  ppid: 200,
  exe: '/usr/bin/python3',
  args: ['python3', '-c', 'import pty'],
  cwd: '/tmp',
  user: 'www-data',
  login_uid: 1000,
  ancestors: [{ pid: 200, exe: '/bin/bash', args: ['bash', '-i'] }],
  exe_hash: `sha256:${'ab12'.repeat(16)}`,
};
const connection = {
  protocol: 'L4_PROTOCOL_TCP' as const,
  local_address: '10.0.0.5',
  local_port: 8080,
  remote_address: '2001:db8::7',
  remote_port: 51_000,
};

function value(category: SigmaCategory, field: string, event: Event__Output): string | undefined {
  const resolved = resolveField(category, field);
  if (!('getter' in resolved)) throw new Error(resolved.reason);
  return resolved.getter(event);
}

describe('Sigma field mapping', () => {
  it('answers process fields from the process and its parent', () => {
    const event = buildEvent({ process_exec: { process } });
    expect(
      Object.fromEntries(
        sigmaFieldNames('process_creation').map((f) => [f, value('process_creation', f, event)]),
      ),
    ).toEqual({
      Image: '/usr/bin/python3',
      CommandLine: 'python3 -c import pty',
      CurrentDirectory: '/tmp',
      User: 'www-data',
      LogonId: '1000',
      ProcessId: '300',
      ParentProcessId: '200',
      ParentImage: '/bin/bash',
      ParentCommandLine: 'bash -i',
      Hashes: `SHA256=${'AB12'.repeat(16)}`,
    });
  });

  it('reads an unset login uid as absent', () => {
    const event = buildEvent({ process_exec: { process: { ...process, login_uid: -1 } } });
    expect(value('process_creation', 'LogonId', event)).toBeUndefined();
  });

  it('answers the target of a write, an open and a rename', () => {
    expect(
      value('file_event', 'TargetFilename', buildEvent({ file_write: { process, path: '/a' } })),
    ).toBe('/a');
    expect(
      value(
        'file_event',
        'TargetFilename',
        buildEvent({ file_open: { process, path: '/b', write: true } }),
      ),
    ).toBe('/b');
    const rename = buildEvent({ file_rename: { process, old_path: '/c', new_path: '/d' } });
    expect(value('file_event', 'TargetFilename', rename)).toBe('/d');
    expect(value('file_event', 'SourceFilename', rename)).toBe('/c');
    expect(value('file_event', 'Image', rename)).toBe('/usr/bin/python3');
  });

  it('takes the initiating side as the source of a connect and of an accept', () => {
    const out = buildEvent({ network_connect: { process, connection } });
    const into = buildEvent({ network_accept: { process, connection } });
    const fields = [
      'SourceIp',
      'SourcePort',
      'DestinationIp',
      'DestinationPort',
      'Initiated',
      'Protocol',
    ];
    const read = (event: Event__Output) => fields.map((f) => value('network_connection', f, event));
    expect(read(out)).toEqual(['10.0.0.5', '8080', '2001:db8::7', '51000', 'true', 'tcp']);
    expect(read(into)).toEqual(['2001:db8::7', '51000', '10.0.0.5', '8080', 'false', 'tcp']);
    expect(value('network_connection', 'DestinationIsIpv6', out)).toBe('true');
    expect(value('network_connection', 'SourceIsIpv6', out)).toBe('false');
  });

  it('reads empty strings and zero ids as absent', () => {
    const event = buildEvent({ process_exec: { process: { exe: '/bin/true' } } });
    for (const field of ['CommandLine', 'CurrentDirectory', 'User', 'ProcessId', 'ParentImage']) {
      expect(value('process_creation', field, event), field).toBeUndefined();
    }
  });

  it('gives a reason for fields Mamori cannot answer', () => {
    expect(resolveField('network_connection', 'DestinationHostname')).toEqual({
      reason: expect.stringMatching(/host name/),
    });
    expect(resolveField('process_creation', 'TargetFilename')).toEqual({
      reason: expect.stringMatching(/process_exec/),
    });
    expect(resolveField('process_creation', 'OriginalFileName')).toHaveProperty('reason');
  });
});
