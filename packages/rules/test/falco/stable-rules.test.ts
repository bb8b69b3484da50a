import { describe, expect, it } from 'vitest';
import type { Event, Process } from '@mamori/proto';
import { createRuleEngine } from '../../src/engine.js';
import { loadFalcoRules } from '../../src/falco/loader.js';
import { buildEvent } from '../support/events.js';
import { byName, fixture } from './support.js';

// Rules in the shape of Falco's stable rules that need the runtime kinds (links, module loads,
// ptrace, socket creation, dup) and thread.cap_effective: each fires on a matching event and
// stays silent on a near miss.
const set = loadFalcoRules([fixture('runtime-kinds.yaml')]);
const engine = createRuleEngine(set.rules);

const CAP_DAC_OVERRIDE = 2 ** 1;
const CAP_SYS_MODULE = 2 ** 16;
const CAP_SYS_ADMIN = 2 ** 21;

const container: Event['workload'] = {
  container_id: '9c1b7d4e3f2a9c1b7d4e3f2a',
  container_name: 'portal',
  runtime: 'containerd',
  image_repository: 'registry.example.gov/city/portal',
};

const sh: Process = {
  pid: 31337,
  ppid: 31000,
  name: 'sh',
  exe: '/bin/sh',
  args: ['sh'],
  cwd: '/tmp',
  uid: 1000,
  user: 'app',
  ancestors: [{ pid: 31000, name: 'node', exe: '/usr/local/bin/node', args: ['node'] }],
};

function fired(event: Event): string[] {
  return engine
    .evaluate(buildEvent({ observed_unix_micros: 1_764_000_000_000_000, ...event }))
    .map((r) => r.name);
}

describe('rules on the runtime kinds', () => {
  it('compiles every rule, each on the kind it names', () => {
    expect(set.skipped).toEqual([]);
    expect(set.problems).toEqual([]);
    const kinds = Object.fromEntries(set.rules.map((r) => [r.name, r.kinds]));
    expect(kinds).toEqual({
      'Symlink onto a guarded file': ['file_symlink'],
      'Hardlink onto a guarded file': ['file_link'],
      'Raw packet socket in a container': ['network_socket'],
      'Standard stream onto a network socket in a container': ['fd_dup'],
      'Module load with CAP_SYS_MODULE in a container': ['kernel_module_load'],
      'Release agent write with admin capabilities': ['file_open', 'file_write'],
      'Tracer attaches': ['process_ptrace'],
      'Process refuses tracers': ['process_ptrace'],
    });
  });

  it('fires on a symlink to a guarded directory, not on one to an ordinary file', () => {
    const onto = (target: string) => ({
      file_symlink: { process: sh, target, link_path: '/tmp/x' },
    });
    expect(fired(onto('/root'))).toEqual(['Symlink onto a guarded file']);
    expect(fired(onto('/etc/shadow'))).toEqual(['Symlink onto a guarded file']);
    expect(fired(onto('/etc/hosts'))).toEqual([]);
    // A hard link to the same file is another rule's business.
    expect(fired({ file_link: { process: sh, target: '/root', link_path: '/tmp/x' } })).toEqual([]);
    const rendered = byName(set, 'Symlink onto a guarded file').render(
      buildEvent(onto('/etc/shadow')),
    );
    expect(rendered).toBe('symlink to /etc/shadow at /tmp/x by sh (symlinkat)');
  });

  it('fires on a hard link to a guarded file, not on one to another file', () => {
    const link = (target: string) => ({
      file_link: { process: sh, target, link_path: '/tmp/s' },
    });
    expect(fired(link('/etc/shadow'))).toEqual(['Hardlink onto a guarded file']);
    expect(fired(link('/etc/passwd'))).toEqual([]);
    expect(
      byName(set, 'Hardlink onto a guarded file').render(buildEvent(link('/etc/sudoers'))),
    ).toBe('hard link to /etc/sudoers at /tmp/s by sh (linkat)');
  });

  it('fires on a packet socket in a container, not on the host nor for an ip socket', () => {
    const socket = (domain: string, workload?: Event['workload']) => ({
      network_socket: { process: sh, domain, type: 3, protocol: 768 },
      ...(workload === undefined ? {} : { workload }),
    });
    expect(fired(socket('AF_PACKET', container))).toEqual(['Raw packet socket in a container']);
    expect(fired(socket('AF_PACKET'))).toEqual([]);
    expect(fired(socket('AF_INET', container))).toEqual([]);
    expect(
      byName(set, 'Raw packet socket in a container').render(
        buildEvent(socket('AF_PACKET', container)),
      ),
    ).toBe('packet socket by sh in 9c1b7d4e3f2a (type=3 proto=768)');
  });

  it('fires when stdout becomes a tcp socket in a container, not for a file or a high descriptor', () => {
    const dup = (newFd: number, fdType: string, extra: object = {}) => ({
      workload: container,
      fd_dup: {
        process: sh,
        old_fd: 3,
        new_fd: newFd,
        fd_type: fdType,
        connection: {
          protocol: 'L4_PROTOCOL_TCP' as const,
          local_address: '10.1.2.3',
          local_port: 51000,
          remote_address: '198.51.100.7',
          remote_port: 4444,
        },
        ...extra,
      },
    });
    expect(fired(dup(1, 'ipv4'))).toEqual(['Standard stream onto a network socket in a container']);
    expect(fired(dup(0, 'ipv6'))).toEqual(['Standard stream onto a network socket in a container']);
    expect(fired(dup(10, 'ipv4'))).toEqual([]);
    expect(fired(dup(1, 'file', { connection: null, fd_name: '/tmp/out' }))).toEqual([]);
    expect(fired({ ...dup(1, 'ipv4'), workload: {} })).toEqual([]);
    expect(
      byName(set, 'Standard stream onto a network socket in a container').render(
        buildEvent(dup(1, 'ipv4')),
      ),
    ).toBe('fd 1 now 10.1.2.3:51000->198.51.100.7:4444 (server 198.51.100.7:4444, tcp) in sh');
  });

  it('fires on a module load by a process with CAP_SYS_MODULE, not without it', () => {
    const load = (caps: number | undefined) => ({
      workload: container,
      kernel_module_load: {
        process: caps === undefined ? sh : { ...sh, cap_effective: caps },
        name: 'diamorphine',
        path: '/tmp/diamorphine.ko',
      },
    });
    expect(fired(load(CAP_SYS_MODULE | CAP_SYS_ADMIN))).toEqual([
      'Module load with CAP_SYS_MODULE in a container',
    ]);
    expect(fired(load(CAP_SYS_ADMIN))).toEqual([]);
    // Capabilities the sensor did not read are no evidence either way.
    expect(fired(load(undefined))).toEqual([]);
    expect(
      byName(set, 'Module load with CAP_SYS_MODULE in a container').render(
        buildEvent(load(CAP_SYS_MODULE)),
      ),
    ).toBe('module load by sh (finit_module) caps=CAP_SYS_MODULE');
  });

  it('fires on a release_agent write with CAP_SYS_ADMIN, not without it', () => {
    const write = (uid: number, caps: number) => ({
      workload: container,
      file_write: {
        process: { ...sh, uid, cap_effective: caps },
        path: '/sys/fs/cgroup/x/release_agent',
      },
    });
    const rule = 'Release agent write with admin capabilities';
    expect(fired(write(0, CAP_SYS_ADMIN))).toEqual([rule]);
    expect(fired(write(1000, CAP_SYS_ADMIN + CAP_DAC_OVERRIDE))).toEqual([rule]);
    expect(fired(write(1000, CAP_SYS_ADMIN))).toEqual([]);
    expect(fired(write(0, CAP_DAC_OVERRIDE))).toEqual([]);
  });

  it('fires on PTRACE_ATTACH by an untrusted process, not by a trusted tracer nor for PEEKDATA', () => {
    const ptrace = (request: string, name = 'sh') => ({
      process_ptrace: { process: { ...sh, name }, request, target_pid: 1 },
    });
    expect(fired(ptrace('PTRACE_ATTACH'))).toEqual(['Tracer attaches']);
    expect(fired(ptrace('PTRACE_SEIZE'))).toEqual(['Tracer attaches']);
    expect(fired(ptrace('PTRACE_ATTACH', 'strace'))).toEqual([]);
    expect(fired(ptrace('PTRACE_PEEKDATA'))).toEqual([]);
    expect(fired(ptrace('PTRACE_TRACEME'))).toEqual(['Process refuses tracers']);
    expect(byName(set, 'Tracer attaches').render(buildEvent(ptrace('PTRACE_ATTACH')))).toBe(
      'ptrace PTRACE_ATTACH of 1 by sh',
    );
  });
});
