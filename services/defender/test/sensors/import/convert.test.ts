import { describe, expect, it } from 'vitest';
import { falcoToEvent } from '../../../src/sensors/import/falco.js';
import { tetragonToEvent } from '../../../src/sensors/import/tetragon.js';
import * as s from './samples.js';

describe('falcoToEvent', () => {
  it('maps an execve alert to process_exec with its workload and keeps the rule in labels', () => {
    const event = falcoToEvent(JSON.parse(s.FALCO_SHELL));
    expect(event.observed_unix_micros).toBe(1716286805408091);
    expect(event.process_exec?.process).toMatchObject({
      pid: 4242,
      ppid: 4200,
      name: 'bash',
      exe: '/usr/bin/bash',
      args: ['bash', '-il'],
      uid: 0,
      user: 'root',
      ancestors: [{ pid: 4200, name: 'runc' }],
    });
    expect(event.workload).toEqual({
      container_id: '3ad7b26ded6d',
      container_name: 'web',
      namespace: 'portal',
      pod_name: 'web-7d9f',
      image_repository: 'registry.example.gov/city/portal',
      image_tag: '1.25',
    });
    expect(event.labels).toMatchObject({
      sensor: 'falco',
      'falco.rule': 'Terminal shell in container',
      'falco.priority': 'Notice',
    });
    expect(event.scanner_finding).toBeUndefined();
  });

  it('maps an open alert to file_open on the host (no workload)', () => {
    const event = falcoToEvent(JSON.parse(s.FALCO_SHADOW));
    expect(event.file_open).toMatchObject({
      path: '/etc/shadow',
      write: false,
      process: { pid: 5151 },
    });
    expect(event.workload).toBeUndefined();
  });

  it('maps a connect alert to network_connect', () => {
    const event = falcoToEvent(JSON.parse(s.FALCO_CONNECT));
    expect(event.network_connect?.connection).toEqual({
      protocol: 'L4_PROTOCOL_TCP',
      local_address: '10.0.0.5',
      local_port: 40512,
      remote_address: '203.0.113.9',
      remote_port: 4444,
    });
    expect(event.labels?.['falco.priority']).toBe('Critical');
  });

  it('keeps an alert that names no activity as a scanner finding with a severity', () => {
    const event = falcoToEvent(JSON.parse(s.FALCO_K8S_AUDIT));
    expect(event.scanner_finding).toMatchObject({
      scanner: 'falco',
      category: 'runtime',
      rule_id: 'Attach/Exec Pod',
      severity: 'SEVERITY_HIGH',
      target: 'host',
    });
    expect(event.workload).toMatchObject({ namespace: 'portal', pod_name: 'web-7d9f' });
  });

  it('refuses a line without a rule, naming the field', () => {
    expect(() => falcoToEvent({ time: '2024-05-21T10:20:05Z' })).toThrow('rule: missing');
    expect(() => falcoToEvent({ rule: 'x' })).toThrow(/time/);
  });
});

describe('tetragonToEvent', () => {
  it('maps process_exec with arguments, parent, pod and image', () => {
    const event = tetragonToEvent(JSON.parse(s.TETRAGON_EXEC));
    expect(event?.process_exec?.process).toMatchObject({
      pid: 52699,
      ppid: 52698,
      exe: '/usr/bin/curl',
      name: 'curl',
      args: ['/usr/bin/curl', 'https://example.com', '-H', 'X-Test: a b'],
      login_uid: -1,
      start_unix_micros: 1696629837700327,
      ancestors: [{ pid: 52698, exe: '/bin/bash', args: ['-c', 'curl https://example.com'] }],
    });
    expect(event?.workload).toMatchObject({
      container_id: '551e161c47d8ebf',
      runtime: 'containerd',
      pod_name: 'xwing',
      namespace: 'default',
      image_repository: 'docker.io/tgraf/netperf',
      image_tag: 'latest',
      image_digest: 'sha256:8e86f744bfea165fd4ce68caa05abc96500f40130b857773186401926af7e9e6',
      pod_labels: { app: 'xwing', 'app.kubernetes.io/name': 'xwing' },
    });
  });

  it('maps process_exit with its signal number', () => {
    const event = tetragonToEvent(JSON.parse(s.TETRAGON_EXIT));
    expect(event?.process_exit).toMatchObject({ exit_code: 0, signal: 9, process: { pid: 52699 } });
  });

  it('maps a tcp_connect kprobe to network_connect and a file hook to file_open', () => {
    expect(tetragonToEvent(JSON.parse(s.TETRAGON_CONNECT))?.network_connect?.connection).toEqual({
      protocol: 'L4_PROTOCOL_TCP',
      local_address: '10.244.0.6',
      local_port: 41234,
      remote_address: '93.184.216.34',
      remote_port: 443,
    });
    const file = tetragonToEvent(JSON.parse(s.TETRAGON_FILE_WRITE));
    expect(file?.file_open).toMatchObject({ path: '/etc/passwd', write: true });
    expect(file?.labels).toMatchObject({ 'tetragon.policy': 'file-monitoring' });
  });

  it('skips kinds it does not import and refuses a process without a pid', () => {
    expect(tetragonToEvent(JSON.parse(s.TETRAGON_LOADER))).toBeUndefined();
    expect(() =>
      tetragonToEvent({ process_exec: { process: {} }, time: '2023-10-06T22:03:57Z' }),
    ).toThrow('process_exec.process.pid: missing');
  });
});
