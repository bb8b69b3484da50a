import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ProcfsReader, WorkloadReader, clockTicksPerSecond } from '../../src/procfs/index.js';

const ID = 'aa'.repeat(32);
let root: string;
let procRoot: string;
let hostRoot: string;

async function put(path: string, content: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, content);
}

async function link(path: string, target: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await symlink(target, path);
}

interface FakeProcess {
  pid: number;
  ppid: number;
  comm: string;
  args: string[];
  exe: string;
  uid?: number;
  startTicks?: number;
  ttyNr?: number;
}

async function fakeProcess(p: FakeProcess): Promise<void> {
  const dir = join(procRoot, String(p.pid));
  await put(
    join(dir, 'stat'),
    `${p.pid} (${p.comm}) S ${p.ppid} ${p.pid} ${p.pid} ${p.ttyNr ?? 0} -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 ${p.startTicks ?? 500} 0 0\n`,
  );
  await put(join(dir, 'cmdline'), p.args.map((a) => `${a}\0`).join(''));
  await put(
    join(dir, 'status'),
    `Name:\t${p.comm}\nUid:\t${p.uid ?? 0}\t${p.uid ?? 0}\t${p.uid ?? 0}\t${p.uid ?? 0}\nGid:\t0\t0\t0\t0\nCapEff:\t00000000a80425fb\n`,
  );
  await put(join(dir, 'loginuid'), '4294967295');
  await link(join(dir, 'exe'), p.exe);
  await link(join(dir, 'cwd'), '/srv');
}

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'mamori-procfs-'));
  procRoot = join(root, 'proc');
  hostRoot = join(root, 'host');
  await put(join(procRoot, 'stat'), 'cpu  1 2 3\nbtime 1700000000\nprocesses 10\n');
  await put(
    join(hostRoot, 'etc', 'passwd'),
    'root:x:0:0::/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n',
  );
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('ProcfsReader on a fake /proc', () => {
  it('reads a process with its user, terminal, start time, capabilities and ancestors', async () => {
    await fakeProcess({ pid: 1, ppid: 0, comm: 'init', args: ['/sbin/init'], exe: '/sbin/init' });
    await fakeProcess({ pid: 40, ppid: 1, comm: 'bash', args: ['-bash'], exe: '/usr/bin/bash' });
    await fakeProcess({
      pid: 41,
      ppid: 40,
      comm: 'xmrig',
      args: ['./xmrig', '-o', 'stratum+tcp://pool:3333'],
      exe: '/tmp/xmrig',
      uid: 1000,
      ttyNr: (136 << 8) | 2,
      startTicks: 12_345,
    });
    await link(join(procRoot, '41', 'fd', '0'), 'socket:[777]');
    await link(join(procRoot, '41', 'fd', '1'), 'pipe:[5]');
    await link(join(procRoot, '41', 'fd', '2'), '/dev/pts/2');
    await put(
      join(procRoot, '41', 'net', 'tcp'),
      '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n' +
        '   0: 0100007F:9C40 0100007F:0D05 01 00000000:00000000 00:00000000 00000000  1000        0 777 1 0000000000000000 20 4 30 10 -1\n',
    );

    const reader = new ProcfsReader({ procRoot, hostRoot });
    const process = await reader.readProcess(41);

    expect(process).toMatchObject({
      pid: 41,
      ppid: 40,
      name: 'xmrig',
      exe: '/tmp/xmrig',
      args: ['./xmrig', '-o', 'stratum+tcp://pool:3333'],
      cwd: '/srv',
      uid: 1000,
      gid: 0,
      user: 'alice',
      tty: '/dev/pts/2',
      login_uid: -1,
      stdin_type: 'ipv4',
      stdout_type: 'pipe',
      stderr_type: 'file',
      exe_upper_layer: false,
      cap_effective: 0xa80425fb,
      ancestors: [
        { pid: 40, name: 'bash', exe: '/usr/bin/bash', args: ['-bash'] },
        { pid: 1, name: 'init', exe: '/sbin/init', args: ['/sbin/init'] },
      ],
    });
    expect(process?.start_unix_micros).toBe(
      1_700_000_000_000_000 + (12_345 * 1_000_000) / clockTicksPerSecond(),
    );
    expect(await reader.processStartTime(41)).toBe(process?.start_unix_micros);
  });

  it('resolves undefined for a process that is gone', async () => {
    const reader = new ProcfsReader({ procRoot, hostRoot });
    expect(await reader.readProcess(999)).toBeUndefined();
    expect(await reader.processStartTime(999)).toBeUndefined();
  });

  it("names users from the process's own root (a container's passwd), not the host's", async () => {
    await fakeProcess({
      pid: 50,
      ppid: 0,
      comm: 'nginx',
      args: ['nginx'],
      exe: '/usr/sbin/nginx',
      uid: 1000,
    });
    await put(
      join(procRoot, '50', 'root', 'etc', 'passwd'),
      'root:x:0:0::/root:/bin/sh\nnginx:x:1000:1000::/:/bin/false\n',
    );
    const reader = new ProcfsReader({ procRoot, hostRoot });
    expect((await reader.readProcess(50))?.user).toBe('nginx');
  });

  it('tells an executable written into the overlay upper layer', async () => {
    await fakeProcess({ pid: 60, ppid: 0, comm: 'sh', args: ['sh'], exe: '/tmp/dropper' });
    await put(
      join(procRoot, '60', 'mountinfo'),
      '1520 1300 0:280 / / rw,relatime - overlay overlay rw,lowerdir=/l,upperdir=/var/lib/docker/overlay2/abc/diff,workdir=/w\n',
    );
    await put(
      join(hostRoot, 'var', 'lib', 'docker', 'overlay2', 'abc', 'diff', 'tmp', 'dropper'),
      'x',
    );
    await fakeProcess({ pid: 61, ppid: 0, comm: 'sh', args: ['sh'], exe: '/bin/sh' });
    await put(
      join(procRoot, '61', 'mountinfo'),
      await readFile(join(procRoot, '60', 'mountinfo'), 'utf8'),
    );
    const reader = new ProcfsReader({ procRoot, hostRoot });
    expect((await reader.readProcess(60))?.exe_upper_layer).toBe(true);
    expect((await reader.readProcess(61))?.exe_upper_layer).toBe(false);
  });
});

describe('WorkloadReader on a fake node', () => {
  it("fills pod, namespace and image from Docker's config.v2.json, privileged from hostconfig.json", async () => {
    await put(join(procRoot, '70', 'cgroup'), `0::/system.slice/docker-${ID}.scope\n`);
    const dir = join(hostRoot, 'var', 'lib', 'docker', 'containers', ID);
    await put(
      join(dir, 'config.v2.json'),
      JSON.stringify({
        Name: '/k8s_portal_portal-7d9_city_uid_0',
        Config: {
          Image: 'registry.example.gov/city/portal:1.4',
          Labels: {
            'io.kubernetes.pod.name': 'portal-7d9',
            'io.kubernetes.pod.namespace': 'city',
            'io.kubernetes.container.name': 'portal',
          },
        },
      }),
    );
    await put(join(dir, 'hostconfig.json'), JSON.stringify({ Privileged: true }));
    expect(await new WorkloadReader({ procRoot, hostRoot }).readWorkload(70)).toEqual({
      container_id: ID,
      container_name: 'portal',
      runtime: 'docker',
      pod_uid: '',
      pod_name: 'portal-7d9',
      namespace: 'city',
      image_repository: 'registry.example.gov/city/portal',
      image_tag: '1.4',
      image_digest: '',
      privileged: true,
    });
  });

  it('leaves metadata empty when the runtime shows none, and gives nothing for host processes', async () => {
    await put(
      join(procRoot, '71', 'cgroup'),
      `0::/kubepods.slice/kubepods-pod11111111_2222_3333_4444_555555555555.slice/cri-containerd-${ID}.scope\n`,
    );
    await put(join(procRoot, '72', 'cgroup'), '0::/user.slice/user-0.slice/session-1.scope\n');
    const reader = new WorkloadReader({ procRoot, hostRoot });
    expect(await reader.readWorkload(71)).toEqual({
      container_id: ID,
      runtime: 'containerd',
      pod_uid: '11111111-2222-3333-4444-555555555555',
    });
    expect(await reader.readWorkload(72)).toBeUndefined();
    expect(await reader.readWorkload(73)).toBeUndefined();
  });

  it("reads containerd CRI annotations from the task's bundle", async () => {
    await put(
      join(procRoot, '74', 'cgroup'),
      `0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod11111111_2222_3333_4444_555555555555.slice/cri-containerd-${ID}.scope\n`,
    );
    await put(
      join(
        hostRoot,
        'run',
        'containerd',
        'io.containerd.runtime.v2.task',
        'k8s.io',
        ID,
        'config.json',
      ),
      JSON.stringify({
        annotations: {
          'io.kubernetes.cri.container-name': 'api',
          'io.kubernetes.cri.sandbox-name': 'api-5f',
          'io.kubernetes.cri.sandbox-namespace': 'ministry',
          'io.kubernetes.cri.sandbox-uid': '11111111-2222-3333-4444-555555555555',
          'io.kubernetes.cri.image-name': 'registry.example.gov/ministry/api@sha256:beef',
        },
      }),
    );
    expect(await new WorkloadReader({ procRoot, hostRoot }).readWorkload(74)).toMatchObject({
      container_name: 'api',
      pod_name: 'api-5f',
      namespace: 'ministry',
      image_repository: 'registry.example.gov/ministry/api',
      image_digest: 'sha256:beef',
      runtime: 'containerd',
    });
  });
});
