import { describe, expect, it } from 'vitest';
import { parseCgroup, parseImageReference } from '../../src/procfs/index.js';

const ID = '3f4e5d6c7b8a99887766554433221100ffeeddccbbaa00112233445566778899';
const POD = '5e3c8b3b-9a8f-4c3e-8b1a-2f1d3b6a7c9e';

describe('parseCgroup', () => {
  it('reads Docker cgroup v1 (cgroupfs driver) lines', () => {
    const text = `12:pids:/docker/${ID}\n11:memory:/docker/${ID}\n1:name=systemd:/docker/${ID}\n0::/system.slice/containerd.service\n`;
    expect(parseCgroup(text)).toEqual({ containerId: ID, runtime: 'docker', podUid: '' });
  });

  it('reads Docker on cgroup v2 with the systemd driver, also with a systemd inside', () => {
    expect(parseCgroup(`0::/system.slice/docker-${ID}.scope\n`)).toEqual({
      containerId: ID,
      runtime: 'docker',
      podUid: '',
    });
    expect(parseCgroup(`0::/system.slice/docker-${ID}.scope/init.scope\n`)?.containerId).toBe(ID);
  });

  it('reads containerd CRI pods with the systemd driver (pod uid with underscores)', () => {
    const line = `0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${POD.replaceAll('-', '_')}.slice/cri-containerd-${ID}.scope`;
    expect(parseCgroup(line)).toEqual({ containerId: ID, runtime: 'containerd', podUid: POD });
  });

  it('reads kubepods with the cgroupfs driver, where the path does not name the runtime', () => {
    const text = `11:cpuset:/kubepods/besteffort/pod${POD}/${ID}\n10:memory:/kubepods/besteffort/pod${POD}/${ID}\n`;
    expect(parseCgroup(text)).toEqual({ containerId: ID, runtime: '', podUid: POD });
  });

  it('reads CRI-O guaranteed pods and skips conmon', () => {
    expect(
      parseCgroup(
        `0::/kubepods.slice/kubepods-pod${POD.replaceAll('-', '_')}.slice/crio-${ID}.scope`,
      ),
    ).toEqual({
      containerId: ID,
      runtime: 'cri-o',
      podUid: POD,
    });
    expect(
      parseCgroup(
        `0::/kubepods.slice/kubepods-pod${POD.replaceAll('-', '_')}.slice/crio-conmon-${ID}.scope`,
      ),
    ).toBeUndefined();
  });

  it('reads rootful and rootless Podman', () => {
    expect(parseCgroup(`0::/machine.slice/libpod-${ID}.scope/container`)).toEqual({
      containerId: ID,
      runtime: 'podman',
      podUid: '',
    });
    expect(
      parseCgroup(
        `0::/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-${ID}.scope/container`,
      )?.runtime,
    ).toBe('podman');
  });

  it('gives no container for host processes', () => {
    expect(parseCgroup('0::/user.slice/user-1000.slice/session-3.scope\n')).toBeUndefined();
    expect(parseCgroup('0::/init.scope\n')).toBeUndefined();
    expect(
      parseCgroup(
        '9:name=systemd:/\n4:memory:/process_api/35251f8fa53fa1b2c2a17aa7411c98ea\n0::/\n',
      ),
    ).toBeUndefined();
    expect(parseCgroup('0::/system.slice/docker.service\n')).toBeUndefined();
  });
});

describe('parseImageReference', () => {
  it('splits repository, tag and digest without normalising', () => {
    expect(parseImageReference('registry.example.gov:5000/city/portal:1.2@sha256:abc')).toEqual({
      repository: 'registry.example.gov:5000/city/portal',
      tag: '1.2',
      digest: 'sha256:abc',
    });
    expect(parseImageReference('nginx')).toEqual({ repository: 'nginx', tag: '', digest: '' });
    expect(parseImageReference('registry.example.gov:5000/portal')).toEqual({
      repository: 'registry.example.gov:5000/portal',
      tag: '',
      digest: '',
    });
  });
});
