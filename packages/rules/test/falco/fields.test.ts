import { posix } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Event } from '@mamori/proto';
import {
  FALCO_EVENT_KINDS,
  formatOpenFlags,
  resolvePath,
  ttyNumber,
} from '../../src/falco/fields.js';
import { buildEvent } from '../support/events.js';
import { loadFalcoRules } from '../../src/falco/loader.js';
import { byName, compileOne, loadOne } from './support.js';

const shell = {
  pid: 4242,
  ppid: 4000,
  name: 'bash',
  exe: '/usr/bin/bash',
  args: ['-bash', '-c', 'id'],
  cwd: '/srv/app',
  uid: 1000,
  gid: 1001,
  user: 'alice',
  tty: 'pts/3',
  login_uid: 1000,
  start_unix_micros: 1_700_000_000_000_000,
  ancestors: [
    { pid: 4000, name: 'sshd', exe: '/usr/sbin/sshd', args: ['sshd:', 'alice@pts/3'] },
    { pid: 1, name: 'systemd', exe: '/usr/lib/systemd/systemd', args: ['/sbin/init'] },
  ],
};
const workload = {
  container_id: '0123456789abcdef0123456789abcdef',
  container_name: 'portal',
  runtime: 'containerd',
  privileged: true,
  pod_name: 'portal-7d9',
  namespace: 'city',
  image_repository: 'registry.example.gov/city/portal',
  image_tag: '2.1',
  image_digest: 'sha256:abc',
  pod_labels: { app: 'portal', tier: 'web' },
};

function holds(condition: string, event: Event): boolean {
  return compileOne(condition).matches(buildEvent(event));
}

describe('Falco fields on Mamori events', () => {
  const exec: Event = {
    process_exec: { process: shell },
    workload,
    observed_unix_micros: 1_700_000_003_000_000,
  };

  it('sees process_exec as the exit of execve', () => {
    expect(
      holds('evt.type in (execve, execveat) and evt.dir = < and evt.category = process', exec),
    ).toBe(true);
    expect(holds('evt.res = SUCCESS and evt.rawres = 0 and evt.failed = false', exec)).toBe(true);
    expect(compileOne('evt.type = execve and proc.name = bash').kinds).toEqual(['process_exec']);
  });

  it('answers the process fields as Falco shows them', () => {
    expect(
      holds('proc.name = bash and proc.exe = -bash and proc.exepath = /usr/bin/bash', exec),
    ).toBe(true);
    expect(holds('proc.cmdline = "bash -c id" and proc.args = "-c id"', exec)).toBe(true);
    expect(holds('proc.pid = 4242 and proc.ppid = 4000 and proc.cwd = /srv/app/', exec)).toBe(true);
    expect(
      holds('proc.pname = sshd and proc.pexe = "sshd:" and proc.pexepath = /usr/sbin/sshd', exec),
    ).toBe(true);
    expect(holds('proc.pcmdline = "sshd alice@pts/3"', exec)).toBe(true);
    expect(
      holds('proc.aname[0] = bash and proc.aname[1] = sshd and proc.aname[2] = systemd', exec),
    ).toBe(true);
    expect(holds('proc.aname[3] exists', exec)).toBe(false);
    expect(
      holds(
        'proc.aname = systemd and proc.aname in (sshd) and proc.aexepath[2] = /usr/lib/systemd/systemd',
        exec,
      ),
    ).toBe(true);
    expect(holds('proc.aname = bash', exec)).toBe(false);
    expect(holds('proc.apid[1] = 4000 and proc.aexe[1] = "sshd:"', exec)).toBe(true);
    expect(holds('proc.tty != 0 and proc.tty = 34819', exec)).toBe(true);
    expect(holds('proc.duration = 3000000000', exec)).toBe(true);
    const dropped: Event = {
      process_exec: {
        process: { ...shell, exe_upper_layer: true, stdin_type: 'ipv4', stdout_type: 'pipe' },
      },
    };
    expect(
      holds(
        'proc.is_exe_upper_layer = true and proc.stdin.type = ipv4 and proc.stdout.type = pipe',
        dropped,
      ),
    ).toBe(true);
    expect(holds('proc.is_exe_upper_layer = true or proc.stderr.type exists', exec)).toBe(false);
    expect(
      holds(
        'user.name = alice and user.uid = 1000 and user.loginuid = 1000 and group.gid = 1001',
        exec,
      ),
    ).toBe(true);
  });

  it('answers container and Kubernetes fields, and container.id = host outside containers', () => {
    expect(
      holds(
        'container.id = 0123456789ab and container.full_id = 0123456789abcdef0123456789abcdef',
        exec,
      ),
    ).toBe(true);
    expect(
      holds(
        'container.name = portal and container.type = containerd and container.privileged = true',
        exec,
      ),
    ).toBe(true);
    expect(
      holds(
        'container.image = registry.example.gov/city/portal:2.1 and container.image.tag = 2.1',
        exec,
      ),
    ).toBe(true);
    expect(
      holds(
        'container.image.repository = registry.example.gov/city/portal and container.image.digest = sha256:abc',
        exec,
      ),
    ).toBe(true);
    expect(
      holds(
        'k8s.ns.name = city and k8s.pod.name = portal-7d9 and k8s.pod.label[app] = portal',
        exec,
      ),
    ).toBe(true);
    expect(holds('k8s.pod.label.tier = web and k8s.pod.labels intersects (tier:web)', exec)).toBe(
      true,
    );
    const host: Event = { process_exec: { process: shell } };
    expect(holds('container.id = host and container.name = host', host)).toBe(true);
    expect(holds('container.image.repository exists', host)).toBe(false);
  });

  it('sees process_exit as procexit', () => {
    const exit: Event = { process_exit: { process: shell, exit_code: 3, signal: 9 } };
    expect(holds('evt.type = procexit and evt.arg.ret = 3 and evt.arg.sig = 9', exit)).toBe(true);
    expect(compileOne('evt.type = procexit').kinds).toEqual(['process_exit']);
  });

  it('sees file_open as openat, reading or writing by its flags', () => {
    const read: Event = {
      file_open: { process: shell, path: '../etc/./shadow', flags: 0o2000000 },
    };
    expect(
      holds(
        'evt.type = openat and evt.category = file and evt.is_open_read = true and evt.is_open_write = false',
        read,
      ),
    ).toBe(true);
    expect(holds('fd.name = /srv/etc/shadow and fd.nameraw = ../etc/./shadow', read)).toBe(true);
    expect(
      holds(
        'fd.directory = /srv/etc and fd.filename = shadow and fs.path.name = /srv/etc/shadow',
        read,
      ),
    ).toBe(true);
    expect(
      holds('fd.typechar = f and fd.type = file and fd.num >= 0 and evt.rawres >= 0', read),
    ).toBe(true);
    expect(
      holds('evt.arg.flags = O_RDONLY|O_CLOEXEC and evt.arg.name = ../etc/./shadow', read),
    ).toBe(true);
    const trunc: Event = {
      file_open: { process: shell, path: '/var/log/syslog', flags: 0o1101, write: true },
    };
    expect(
      holds(
        'evt.is_open_write = true and evt.is_open_read = false and evt.arg.flags contains O_TRUNC',
        trunc,
      ),
    ).toBe(true);
    expect(holds('evt.arg.flags contains O_APPEND', trunc)).toBe(false);
    expect(holds('evt.arg.flags contains "O_CREAT|O_TRUNC"', trunc)).toBe(true);
    const rw: Event = { file_open: { process: shell, path: '/tmp/x', flags: 2 } };
    expect(holds('evt.is_open_read = true and evt.is_open_write = true', rw)).toBe(true);
  });

  it('sees file_write as an open for writing whose flags are not known', () => {
    const write: Event = { file_write: { process: shell, path: '/etc/passwd', bytes_written: 10 } };
    expect(
      holds('evt.type = openat and evt.is_open_write = true and fd.name = /etc/passwd', write),
    ).toBe(true);
    expect(holds('evt.is_open_read = true', write)).toBe(false);
    expect(compileOne('evt.is_open_write = true and evt.arg.flags contains O_TRUNC').kinds).toEqual(
      ['file_open'],
    );
    expect(compileOne('evt.is_open_write = true and fd.name startswith /etc').kinds).toEqual([
      'file_open',
      'file_write',
    ]);
  });

  it('sees file_rename as renameat2 and file_delete as unlinkat', () => {
    const rename: Event = {
      file_rename: { process: shell, old_path: 'a.txt', new_path: '/tmp/b.txt' },
    };
    expect(
      holds(
        'evt.type = renameat2 and fs.path.source = /srv/app/a.txt and fs.path.target = /tmp/b.txt',
        rename,
      ),
    ).toBe(true);
    expect(
      holds(
        'evt.arg.oldpath = a.txt and evt.arg.newpath = /tmp/b.txt and fs.path.sourceraw = a.txt',
        rename,
      ),
    ).toBe(true);
    expect(holds('fd.name exists', rename)).toBe(false);
    const del: Event = { file_delete: { process: shell, path: '/var/log/auth.log' } };
    expect(
      holds(
        'evt.type = unlinkat and fs.path.name = /var/log/auth.log and evt.arg.name = /var/log/auth.log',
        del,
      ),
    ).toBe(true);
  });

  it('sees network_connect as connect from the local (client) side', () => {
    const connect: Event = {
      network_connect: {
        process: shell,
        connection: {
          protocol: 'L4_PROTOCOL_TCP',
          local_address: '10.0.0.5',
          local_port: 40000,
          remote_address: '93.184.216.34',
          remote_port: 443,
        },
      },
    };
    expect(
      holds(
        'evt.type = connect and evt.category = net and fd.l4proto = tcp and fd.typechar = 4 and fd.type = ipv4',
        connect,
      ),
    ).toBe(true);
    expect(holds('fd.name = "10.0.0.5:40000->93.184.216.34:443"', connect)).toBe(true);
    expect(
      holds(
        'fd.cip = 10.0.0.5 and fd.sip = 93.184.216.34 and fd.cport = 40000 and fd.sport = 443',
        connect,
      ),
    ).toBe(true);
    expect(
      holds(
        'fd.lip = 10.0.0.5 and fd.rip = 93.184.216.34 and fd.lport = 40000 and fd.rport = 443',
        connect,
      ),
    ).toBe(true);
    expect(
      holds(
        'fd.snet = "93.184.0.0/16" and fd.cnet = "10.0.0.0/8" and not fd.snet in ("10.0.0.0/8")',
        connect,
      ),
    ).toBe(true);
    expect(
      holds('fd.ip = 93.184.216.34 and fd.port = 40000 and fd.net = "10.0.0.0/8"', connect),
    ).toBe(true);
    expect(holds('fd.sockfamily = ip and fd.is_server = false', connect)).toBe(true);
  });

  it('sees network_accept from the server side and network_listen without a client', () => {
    const accept: Event = {
      network_accept: {
        process: shell,
        connection: {
          protocol: 'L4_PROTOCOL_UDP',
          local_address: '::1',
          local_port: 22,
          remote_address: '2001:db8::7',
          remote_port: 5000,
        },
      },
    };
    expect(
      holds(
        'evt.type = accept and fd.l4proto = udp and fd.typechar = 6 and fd.type = ipv6',
        accept,
      ),
    ).toBe(true);
    expect(
      holds(
        'fd.sip = "0:0::1" and fd.sport = 22 and fd.cip = 2001:db8::7 and fd.cnet = "2001:db8::/32"',
        accept,
      ),
    ).toBe(true);
    const listen: Event = {
      network_listen: {
        process: shell,
        connection: { protocol: 'L4_PROTOCOL_TCP', local_address: '0.0.0.0', local_port: 8080 },
      },
    };
    expect(
      holds(
        'evt.type = listen and fd.sport = 8080 and fd.name = "0.0.0.0:8080" and fd.is_server = true',
        listen,
      ),
    ).toBe(true);
    expect(holds('fd.cip exists', listen)).toBe(false);
  });

  it('sees file_link as linkat and file_symlink as symlinkat, with their own arguments', () => {
    const link: Event = {
      file_link: { process: shell, target: '../../etc/shadow', link_path: 'sh' },
    };
    expect(
      holds(
        'evt.type in (link, linkat) and evt.category = file and evt.arg.oldpath = "../../etc/shadow" and evt.arg.newpath = sh',
        link,
      ),
    ).toBe(true);
    expect(holds('fs.path.source = /etc/shadow and fs.path.target = /srv/app/sh', link)).toBe(true);
    expect(holds('fs.path.sourceraw = "../../etc/shadow" and fs.path.targetraw = sh', link)).toBe(
      true,
    );
    expect(holds('evt.arg.target exists or fd.name exists', link)).toBe(false);
    expect(compileOne('evt.type = linkat and proc.name = bash').kinds).toEqual(['file_link']);

    const symlink: Event = {
      file_symlink: { process: shell, target: '../etc', link_path: '/tmp/l' },
    };
    expect(
      holds(
        'evt.type = symlinkat and evt.arg.target = "../etc" and evt.arg.linkpath = /tmp/l and evt.arg[1] = "../etc"',
        symlink,
      ),
    ).toBe(true);
    // A symlink's content is relative to the link, not to the cwd: it is not resolved.
    expect(holds('fs.path.source = "../etc" and fs.path.target = /tmp/l', symlink)).toBe(true);
    expect(holds('evt.arg.oldpath exists', symlink)).toBe(false);
    expect(compileOne('evt.type in (symlink, symlinkat) and proc.name = bash').kinds).toEqual([
      'file_symlink',
    ]);
  });

  it('sees kernel_module_load as finit_module and answers thread.cap_effective by name', () => {
    const caps = 2 ** 16 + 2 ** 21 + 1; // CAP_CHOWN, CAP_SYS_MODULE, CAP_SYS_ADMIN
    const load: Event = {
      kernel_module_load: {
        process: { ...shell, cap_effective: caps },
        name: 'rootkit',
        path: '/tmp/rootkit.ko',
        parameters: 'hide=1',
      },
    };
    expect(holds('evt.type in (init_module, finit_module) and evt.res = SUCCESS', load)).toBe(true);
    expect(holds('evt.arg.uargs = "hide=1" and evt.category = other', load)).toBe(true);
    expect(holds('thread.cap_effective = "CAP_CHOWN CAP_SYS_MODULE CAP_SYS_ADMIN"', load)).toBe(
      true,
    );
    expect(holds('thread.cap_effective icontains sys_module', load)).toBe(true);
    expect(
      holds('thread.cap_effective contains CAP_SYS_ADMIN', {
        kernel_module_load: { process: { ...shell, cap_effective: 2 ** 16 } },
      }),
    ).toBe(false);
    // No capabilities is an empty set; capabilities the sensor did not read are absent.
    expect(
      holds('thread.cap_effective = ""', {
        kernel_module_load: { process: { ...shell, cap_effective: 0 } },
      }),
    ).toBe(true);
    expect(holds('thread.cap_effective exists', exec)).toBe(false);
  });

  it('sees process_ptrace as ptrace, with the request Falco names', () => {
    const attach: Event = {
      process_ptrace: { process: shell, request: 'PTRACE_ATTACH', target_pid: 77 },
    };
    expect(
      holds(
        'evt.type = ptrace and evt.arg.request contains PTRACE_ATTACH and evt.arg.pid = 77',
        attach,
      ),
    ).toBe(true);
    expect(holds('evt.arg.request contains PTRACE_TRACEME', attach)).toBe(false);
    expect(holds('evt.category = process and evt.res = SUCCESS', attach)).toBe(true);
    // ptrace has no file descriptor.
    expect(loadOne('evt.type = ptrace and fd.name exists').skipped).toEqual([
      expect.objectContaining({ reason: expect.stringContaining('cannot hold') }),
    ]);
  });

  it('sees network_socket as socket: the family, type and protocol of a new descriptor', () => {
    const packet: Event = {
      network_socket: { process: shell, domain: 'AF_PACKET', type: 3, protocol: 768 },
    };
    expect(
      holds(
        'evt.type = socket and evt.arg.domain contains AF_PACKET and evt.arg.type = 3 and evt.arg.proto = 768',
        packet,
      ),
    ).toBe(true);
    expect(holds('fd.type exists or fd.name exists or fd.sip exists', packet)).toBe(false);
    const tcp: Event = {
      network_socket: { process: shell, domain: 'AF_INET6', type: 1 | 0o2000000, protocol: 0 },
    };
    expect(
      holds('fd.type = ipv6 and fd.typechar = 6 and fd.sockfamily = ip and fd.l4proto = tcp', tcp),
    ).toBe(true);
    expect(holds('evt.rawres >= 0', tcp)).toBe(true);
    expect(loadOne('evt.type = socket and evt.rawres = 3').skipped).toEqual([
      expect.objectContaining({ field: 'evt.rawres' }),
    ]);
  });

  it('sees fd_dup as dup2: the result is the new descriptor, fd.* the duplicated one', () => {
    const ontoStdout: Event = {
      fd_dup: {
        process: shell,
        old_fd: 3,
        new_fd: 1,
        fd_type: 'ipv4',
        connection: {
          protocol: 'L4_PROTOCOL_TCP',
          local_address: '10.0.0.5',
          local_port: 40000,
          remote_address: '203.0.113.9',
          remote_port: 4444,
        },
      },
    };
    expect(
      holds('evt.type in (dup, dup2, dup3) and evt.rawres in (0, 1, 2) and fd.num = 3', ontoStdout),
    ).toBe(true);
    expect(holds('evt.arg.oldfd = 3 and evt.arg.newfd = 1 and evt.arg.res = 1', ontoStdout)).toBe(
      true,
    );
    expect(
      holds(
        'fd.type = ipv4 and fd.typechar = 4 and fd.l4proto = tcp and fd.name = "10.0.0.5:40000->203.0.113.9:4444"',
        ontoStdout,
      ),
    ).toBe(true);
    // The process connected the socket: the remote side is the server.
    expect(holds('fd.sip = 203.0.113.9 and fd.sport = 4444 and fd.cport = 40000', ontoStdout)).toBe(
      true,
    );
    expect(holds('fd.is_server = false and fd.lport = 40000', ontoStdout)).toBe(true);
    const accepted: Event = {
      fd_dup: { ...ontoStdout.fd_dup, accepted: true },
    };
    expect(
      holds('fd.sip = 10.0.0.5 and fd.cip = 203.0.113.9 and fd.is_server = true', accepted),
    ).toBe(true);
    const file: Event = {
      fd_dup: {
        process: shell,
        old_fd: 5,
        new_fd: 2,
        fd_type: 'file',
        fd_name: '/var/log/app.log',
      },
    };
    expect(
      holds(
        'fd.type = file and fd.typechar = f and fd.name = /var/log/app.log and fd.directory = /var/log and fd.filename = app.log',
        file,
      ),
    ).toBe(true);
    expect(holds('fd.sip exists or fd.type in (ipv4, ipv6)', file)).toBe(false);
  });

  it('gives rules without evt.type every kind their fields apply to, and never dns, http or findings', () => {
    // Every kind with a process: all but DNS, HTTP and scanner findings.
    expect(compileOne('proc.name = bash').kinds).toEqual([...FALCO_EVENT_KINDS]);
    expect(FALCO_EVENT_KINDS).not.toContain('dns_query');
    expect(FALCO_EVENT_KINDS).toContain('fd_dup');
    expect(compileOne('fd.sport = 22').kinds).toEqual([
      'network_connect',
      'network_accept',
      'network_listen',
      'fd_dup',
    ]);
    const rule = compileOne('proc.name = bash');
    expect(rule.matches(buildEvent({ dns_query: { process: shell, query: 'example.org' } }))).toBe(
      false,
    );
  });

  it('skips a rule that needs a field Mamori cannot answer, naming the field', () => {
    expect(loadOne('evt.type = execve and proc.is_vpgid_leader = true').skipped).toEqual([
      expect.objectContaining({
        rule: 'r',
        field: 'proc.is_vpgid_leader',
        reason: expect.stringContaining('do not carry'),
      }),
    ]);
    expect(loadOne('evt.type = openat and fd.num = 3').skipped).toEqual([
      expect.objectContaining({ field: 'fd.num', reason: expect.stringContaining('descriptor') }),
    ]);
    expect(loadOne('evt.type = execve and jevt.value = x').skipped).toEqual([
      expect.objectContaining({ field: 'jevt.value', reason: 'unknown field jevt.value' }),
    ]);
  });

  it('folds away what Mamori cannot answer where the event type already decides', () => {
    // The sendto branch can never hold on Mamori's events, so fd.connected never matters.
    const rule = compileOne(
      '(evt.type = connect or (evt.type = sendto and fd.connected = false)) and fd.sport = 443',
    );
    expect(rule.kinds).toEqual(['network_connect']);
    expect(loadOne('evt.type = setns and evt.arg.nstype = CLONE_NEWNET').skipped).toEqual([
      expect.objectContaining({ field: 'evt.type', reason: expect.stringContaining('setns') }),
    ]);
  });

  it('decides comparisons of numbers it only knows a bound of', () => {
    expect(compileOne('evt.type = openat and fd.num >= 0 and evt.num > 0').kinds).toEqual([
      'file_open',
      'file_write',
    ]);
    expect(loadOne('evt.type = openat and fd.num = -1').skipped).toEqual([
      expect.objectContaining({ reason: expect.stringContaining('cannot hold') }),
    ]);
  });
});

describe("Mamori's fields of web requests", () => {
  const verdict = {
    sensor: 'waas',
    'waas.action': 'block',
    'waas.enforced': 'true',
    'waas.score': '11.4',
    'waas.categories': 'sqli,xss',
    'waas.locations': 'query.id,header.user-agent',
    'waas.reason': 'SQL tautology',
    'waas.evidence': "1' or '1'='1",
    'waas.policy': 'portal-web',
  };
  const request: Event = {
    workload,
    host: { hostname: 'node-1' },
    observed_unix_micros: 1_700_000_003_000_000,
    labels: verdict,
    http_request: {
      method: 'GET',
      url: "/search?id=1'%20or%20'1'='1&page=2",
      headers: [
        { name: 'Host', value: 'portal.example.gov' },
        { name: 'User-Agent', value: 'sqlmap/1.8' },
        { name: 'X-Forwarded-For', value: '198.51.100.7' },
        { name: 'x-forwarded-for', value: '10.0.0.3' },
      ],
      client_address: '203.0.113.9',
      client_port: 51234,
      server_name: 'portal.example.gov',
      server_port: 443,
      tls: true,
    },
  };
  const withLabels = (labels: Record<string, string>): Event => ({ ...request, labels });

  it('answers the request: method, url, path and query, host, client, user agent', () => {
    expect(holds('http.method = GET and http.host = portal.example.gov', request)).toBe(true);
    expect(holds(`http.url = "/search?id=1'%20or%20'1'='1&page=2"`, request)).toBe(true);
    expect(holds(`http.path = /search and http.query startswith "id=1'"`, request)).toBe(true);
    expect(holds('http.query endswith "&page=2"', request)).toBe(true);
    const bare: Event = { ...request, http_request: { ...request.http_request, url: '/login' } };
    expect(holds('http.path = /login and http.query = ""', bare)).toBe(true);
    expect(holds('http.query exists', { ...request, http_request: { method: 'GET' } })).toBe(false);
    expect(holds('http.client_port = 51234 and http.user_agent = sqlmap/1.8', request)).toBe(true);
    expect(holds('http.user_agent icontains SQLMAP', request)).toBe(true);
  });

  it('compares http.client_ip as an address, as fd.sip, and http.client_net with networks', () => {
    expect(holds('http.client_ip = 203.0.113.9', request)).toBe(true);
    expect(holds('http.client_ip in ("::ffff:203.0.113.9", 10.0.0.1)', request)).toBe(true);
    expect(holds('http.client_ip = 203.0.113.10', request)).toBe(false);
    expect(holds('http.client_net in (10.0.0.0/8, 203.0.113.0/24)', request)).toBe(true);
    expect(holds('http.client_net = 192.168.0.0/16', request)).toBe(false);
    expect(loadOne('http.client_ip = 203.0.113.0/24').skipped).toEqual([
      expect.objectContaining({ reason: expect.stringContaining('IP address') }),
    ]);
  });

  it('finds a header by name whatever its case, and any of its values', () => {
    expect(holds('http.header[user-agent] startswith sqlmap', request)).toBe(true);
    expect(holds('http.header[X-FORWARDED-FOR] = 10.0.0.3', request)).toBe(true);
    expect(holds('http.header[x-forwarded-for] = 198.51.100.7', request)).toBe(true);
    expect(holds('http.header[x-real-ip] exists', request)).toBe(false);
    expect(
      compileOne('http.method = GET', '%http.header[x-forwarded-for]').render(buildEvent(request)),
    ).toBe('198.51.100.7');
    expect(loadOne('http.header = x').skipped).toEqual([
      expect.objectContaining({ field: 'http.header', reason: expect.stringContaining('name') }),
    ]);
  });

  it('answers the verdict from the labels: action, enforcement, score, reason, policy', () => {
    expect(holds('waas.action = block and waas.enforced = true', request)).toBe(true);
    expect(holds('waas.score > 10 and waas.score < 11.5', request)).toBe(true);
    expect(holds('waas.reason = "SQL tautology" and waas.policy = portal-web', request)).toBe(true);
    expect(holds(`waas.evidence contains "'1'='1"`, request)).toBe(true);
    expect(holds('waas.sampled = false', request)).toBe(true);
    // Absent and anything but `true` is not enforced; a score that is no number is absent.
    const detect = withLabels({
      'waas.action': 'block',
      'waas.enforced': 'yes',
      'waas.score': 'x',
    });
    expect(holds('waas.enforced = false and not waas.score exists', detect)).toBe(true);
    expect(holds('waas.enforced = false', withLabels({ 'waas.action': 'alert' }))).toBe(true);
    expect(holds('waas.policy exists or waas.reason exists', withLabels({}))).toBe(false);
    const sample = withLabels({ 'waas.action': 'allow', 'waas.sampled': 'true' });
    expect(holds('waas.action = allow and waas.sampled = true', sample)).toBe(true);
  });

  it('gives each category and location as one value of several', () => {
    expect(holds('waas.categories intersects (cmdi, xss)', request)).toBe(true);
    expect(holds('waas.categories intersects (cmdi, lfi)', request)).toBe(false);
    expect(holds('waas.categories in (sqli)', request)).toBe(true);
    expect(holds('waas.categories = xss', request)).toBe(true);
    expect(holds('waas.categories contains sql', request)).toBe(true);
    expect(holds('waas.categories = "sqli,xss"', request)).toBe(false);
    expect(holds('waas.locations = header.user-agent', request)).toBe(true);
    expect(holds('waas.locations startswith body.', request)).toBe(false);
    const spaced = withLabels({ 'waas.categories': ' ssrf , ,jndi' });
    expect(holds('waas.categories = ssrf and waas.categories = jndi', spaced)).toBe(true);
    expect(holds('waas.categories = ""', spaced)).toBe(false);
  });

  it('renders the fields as the sensor reported them', () => {
    const rule = compileOne(
      'waas.action = block',
      '%evt.type %http.method %http.url client=%http.client_ip score=%waas.score categories=%waas.categories enforced=%waas.enforced policy=%waas.policy container=%container.id',
    );
    expect(rule.render(buildEvent(request))).toBe(
      `http_request GET /search?id=1'%20or%20'1'='1&page=2 client=203.0.113.9 score=11.4 categories=sqli,xss enforced=true policy=portal-web container=0123456789ab`,
    );
    expect(rule.details(buildEvent(withLabels({ 'waas.action': 'block' })))).toMatchObject({
      'waas.enforced': 'false',
      'http.method': 'GET',
    });
    expect(rule.details(buildEvent(withLabels({ 'waas.action': 'block' })))).not.toHaveProperty(
      'waas.policy',
    );
  });

  it('offers web requests only to rules that name a web field or evt.type = http_request', () => {
    expect(compileOne('waas.action = block').kinds).toEqual(['http_request']);
    expect(compileOne('http.path startswith /admin').kinds).toEqual(['http_request']);
    expect(compileOne('evt.type = http_request and container.id != host').kinds).toEqual([
      'http_request',
    ]);
    expect(compileOne('evt.type in (execve, http_request) and k8s.ns.name = city').kinds).toEqual([
      'process_exec',
      'http_request',
    ]);
    // Conditions that would hold on a request, which has no process, but name no web field.
    for (const condition of ['not proc.name in (nginx)', 'container.id != host', 'evt.time > 0']) {
      expect(compileOne(condition).kinds, condition).not.toContain('http_request');
    }
    const rule = compileOne('not proc.name in (nginx)');
    expect(rule.matches(buildEvent(request))).toBe(false);
    // A web field names the kind through a macro too, also when the macro was folded before.
    const set = loadFalcoRules([
      {
        path: 'web.yaml',
        text: [
          '- macro: blocked',
          '  condition: waas.action = block',
          '- rule: a',
          '  desc: d',
          '  condition: blocked and container.id != host',
          '  output: o',
          '  priority: WARNING',
          '- rule: b',
          '  desc: d',
          '  condition: not blocked and container.id != host',
          '  output: o',
          '  priority: WARNING',
        ].join('\n'),
      },
    ]);
    expect(set.rules.map((r) => [r.name, r.kinds.includes('http_request')])).toEqual([
      ['a', true],
      ['b', true],
    ]);
    expect(byName(set, 'a').kinds).toEqual(['http_request']);
  });

  it('leaves Falco fields a request has no value for absent, and web fields absent on syscalls', () => {
    expect(holds('evt.type = http_request and evt.hostname = node-1', request)).toBe(true);
    expect(holds('evt.type = http_request and k8s.ns.name = city', request)).toBe(true);
    expect(loadOne('evt.type = http_request and proc.name exists').skipped).toEqual([
      expect.objectContaining({ reason: expect.stringContaining('cannot hold') }),
    ]);
    expect(loadOne('evt.type = http_request and evt.dir = <').skipped).toHaveLength(1);
    // On a syscall, every comparison on a web field is false.
    expect(
      holds('evt.type = execve and not waas.action exists', { process_exec: { process: shell } }),
    ).toBe(true);
    expect(loadOne('evt.type = execve and waas.action = block').skipped).toEqual([
      expect.objectContaining({ reason: expect.stringContaining('cannot hold') }),
    ]);
    expect(loadOne('http.pth = /x').skipped).toEqual([
      expect.objectContaining({ field: 'http.pth', reason: 'unknown field http.pth' }),
    ]);
  });
});

describe('field helpers', () => {
  it('encodes terminals as the kernel numbers them', () => {
    expect(ttyNumber('')).toBe(0);
    expect(ttyNumber('pts/0')).toBe(34816);
    expect(ttyNumber('/dev/tty1')).toBe(1025);
    expect(ttyNumber('ttyS0')).toBe(1088);
    expect(ttyNumber('weird')).toBeUndefined();
  });

  it('resolves paths against the working directory', () => {
    expect(resolvePath('/etc//x/../shadow', '/')).toBe('/etc/shadow');
    expect(resolvePath('x', '/srv')).toBe('/srv/x');
    expect(resolvePath('x', '')).toBe('x');
  });

  it('normalizes exactly the paths with an empty, `.` or `..` segment', () => {
    // The definition before the two-search check, for every path of up to 7 of `/`, `.`, `a`.
    const reference = (p: string) =>
      p.includes('//') ||
      p.includes('/./') ||
      p.includes('/../') ||
      p.endsWith('/.') ||
      p.endsWith('/..')
        ? posix.normalize(p)
        : p;
    let paths = [''];
    for (let length = 1; length <= 7; length++) {
      paths = paths.flatMap((p) => [`${p}/`, `${p}.`, `${p}a`]);
      for (const p of paths) {
        const absolute = `/${p}`;
        expect(resolvePath(absolute, ''), absolute).toBe(reference(absolute));
      }
    }
  });

  it('writes open flags as Falco does', () => {
    expect(formatOpenFlags(0o1101)).toBe('O_WRONLY|O_CREAT|O_TRUNC');
  });
});
