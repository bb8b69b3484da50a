// Sample lines in the tools' public JSON formats, written for these tests.

export const FALCO_SHELL = JSON.stringify({
  hostname: 'node-1',
  output:
    '10:20:05.408091526: Notice A shell was spawned in a container with an attached terminal (user=root container=web shell=bash)',
  priority: 'Notice',
  rule: 'Terminal shell in container',
  source: 'syscall',
  tags: ['T1059', 'container', 'mitre_execution', 'shell'],
  time: '2024-05-21T10:20:05.408091526Z',
  output_fields: {
    'container.id': '3ad7b26ded6d',
    'container.name': 'web',
    'container.image.repository': 'registry.example.gov/city/portal',
    'container.image.tag': '1.25',
    'evt.type': 'execve',
    'k8s.ns.name': 'portal',
    'k8s.pod.name': 'web-7d9f',
    'proc.cmdline': 'bash -il',
    'proc.exepath': '/usr/bin/bash',
    'proc.name': 'bash',
    'proc.pid': 4242,
    'proc.ppid': 4200,
    'proc.pname': 'runc',
    'user.name': 'root',
    'user.uid': 0,
  },
});

export const FALCO_SHADOW = JSON.stringify({
  hostname: 'node-1',
  output:
    '10:21:00.000001000: Warning Sensitive file opened for reading by non-trusted program (file=/etc/shadow)',
  priority: 'Warning',
  rule: 'Read sensitive file untrusted',
  source: 'syscall',
  tags: ['filesystem', 'mitre_credential_access'],
  time: '2024-05-21T10:21:00.000001Z',
  output_fields: {
    'container.id': 'host',
    'evt.type': 'openat',
    'fd.name': '/etc/shadow',
    'proc.cmdline': 'cat /etc/shadow',
    'proc.exepath': '/usr/bin/cat',
    'proc.name': 'cat',
    'proc.pid': 5151,
    'user.name': 'alice',
    'user.uid': 1000,
  },
});

export const FALCO_CONNECT = JSON.stringify({
  output: '10:22:00.000000000: Notice Outbound connection to C2 server',
  priority: 'Critical',
  rule: 'Outbound Connection to C2 Servers',
  time: '2024-05-21T10:22:00Z',
  output_fields: {
    'evt.type': 'connect',
    'fd.l4proto': 'tcp',
    'fd.lip': '10.0.0.5',
    'fd.lport': 40512,
    'fd.rip': '203.0.113.9',
    'fd.rport': 4444,
    'proc.exepath': '/tmp/x',
    'proc.name': 'x',
    'proc.pid': 777,
  },
});

/** No event type Mamori has: a finding. */
export const FALCO_K8S_AUDIT = JSON.stringify({
  output: 'Attach/Exec to pod (user=admin pod=web-7d9f ns=portal)',
  priority: 'Error',
  rule: 'Attach/Exec Pod',
  source: 'k8s_audit',
  time: '2024-05-21T10:23:00.5Z',
  output_fields: { 'ka.user.name': 'admin', 'k8s.ns.name': 'portal', 'k8s.pod.name': 'web-7d9f' },
});

const POD = {
  namespace: 'default',
  name: 'xwing',
  container: {
    id: 'containerd://551e161c47d8ebf',
    name: 'spaceship',
    image: {
      id: 'docker.io/tgraf/netperf@sha256:8e86f744bfea165fd4ce68caa05abc96500f40130b857773186401926af7e9e6',
      name: 'docker.io/tgraf/netperf:latest',
    },
    start_time: '2023-10-06T22:03:02Z',
    pid: 49,
  },
  pod_labels: { app: 'xwing', 'app.kubernetes.io/name': 'xwing' },
  workload: 'xwing',
};

const PARENT = {
  exec_id: 'a2luZC1jb250cm9sLXBsYW5lOjExNTA1MzQ5NDc4OTY2MDo1MjY5OA==',
  pid: 52698,
  uid: 0,
  cwd: '/',
  binary: '/bin/bash',
  arguments: '-c "curl https://example.com"',
  start_time: '2023-10-06T22:03:57.690Z',
};

export const TETRAGON_EXEC = JSON.stringify({
  process_exec: {
    process: {
      exec_id: 'a2luZC1jb250cm9sLXBsYW5lOjExNTA1MzUwNDc4OTY2MDo1MjY5OQ==',
      pid: 52699,
      uid: 0,
      cwd: '/',
      binary: '/usr/bin/curl',
      arguments: 'https://example.com -H "X-Test: a b"',
      flags: 'execve rootcwd clone',
      start_time: '2023-10-06T22:03:57.700327580Z',
      auid: 4294967295,
      pod: POD,
      docker: '551e161c47d8ebf',
      parent_exec_id: PARENT.exec_id,
      tid: 52699,
    },
    parent: PARENT,
  },
  node_name: 'kind-control-plane',
  time: '2023-10-06T22:03:57.700326678Z',
});

export const TETRAGON_EXIT = JSON.stringify({
  process_exit: {
    process: {
      exec_id: 'eA==',
      pid: 52699,
      uid: 0,
      binary: '/usr/bin/curl',
      arguments: '',
      pod: POD,
    },
    parent: PARENT,
    signal: 'SIGKILL',
    status: 0,
    time: '2023-10-06T22:03:58.000001Z',
  },
  node_name: 'kind-control-plane',
  time: '2023-10-06T22:03:58.000001Z',
});

export const TETRAGON_CONNECT = JSON.stringify({
  process_kprobe: {
    process: { exec_id: 'eQ==', pid: 52699, uid: 0, binary: '/usr/bin/curl', pod: POD },
    parent: PARENT,
    function_name: 'tcp_connect',
    args: [
      {
        sock_arg: {
          family: 'AF_INET',
          type: 'SOCK_STREAM',
          protocol: 'IPPROTO_TCP',
          saddr: '10.244.0.6',
          daddr: '93.184.216.34',
          sport: 41234,
          dport: 443,
        },
      },
    ],
    action: 'KPROBE_ACTION_POST',
    policy_name: 'monitor-network',
  },
  node_name: 'kind-control-plane',
  time: '2023-10-06T22:03:57.800Z',
});

export const TETRAGON_FILE_WRITE = JSON.stringify({
  process_kprobe: {
    process: { exec_id: 'eg==', pid: 6000, uid: 0, binary: '/usr/bin/vi' },
    function_name: 'security_file_permission',
    args: [{ file_arg: { path: '/etc/passwd', permission: '-rw-r--r--' } }, { int_arg: 2 }],
    action: 'KPROBE_ACTION_POST',
    policy_name: 'file-monitoring',
  },
  node_name: 'node-1',
  time: '2023-10-06T22:04:00Z',
});

export const TETRAGON_LOADER = JSON.stringify({
  process_loader: { process: { pid: 1 }, path: '/lib/x.so' },
  time: '2023-10-06T22:04:00Z',
});
