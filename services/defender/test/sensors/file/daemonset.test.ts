import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';

// The manifest lives in deploy/defender; the file sensor's sensitive paths come from its mounts.
const MANIFEST = join(import.meta.dirname, '../../../../../deploy/defender/daemonset.yaml');

interface Container {
  securityContext: { privileged: boolean; capabilities: { drop: string[]; add: string[] } };
  resources: { requests: Record<string, string>; limits: Record<string, string> };
  env: Array<{
    name: string;
    value?: string;
    valueFrom?: { secretKeyRef?: { name: string; key: string } };
  }>;
  volumeMounts: Array<{ name: string; mountPath: string; readOnly?: boolean }>;
}

interface DaemonSet {
  kind: string;
  spec: {
    template: {
      spec: {
        hostPID: boolean;
        serviceAccountName: string;
        tolerations: Array<{ operator: string }>;
        containers: Container[];
        volumes: Array<{ name: string; hostPath?: { path: string } }>;
      };
    };
  };
}

async function load(): Promise<Array<{ kind: string }>> {
  const docs = parseAllDocuments(await readFile(MANIFEST, 'utf8'));
  for (const doc of docs) expect(doc.errors).toEqual([]);
  return docs.map((d) => d.toJS() as { kind: string });
}

describe('deploy/defender/daemonset.yaml', () => {
  it('declares a ServiceAccount and a DaemonSet on the host pid namespace that tolerates every taint', async () => {
    const docs = await load();
    expect(docs.map((d) => d.kind)).toEqual(['ServiceAccount', 'DaemonSet']);
    const pod = (docs[1] as DaemonSet).spec.template.spec;
    expect(pod.hostPID).toBe(true);
    expect(pod.serviceAccountName).toBe('mamori-defender');
    expect(pod.tolerations).toEqual([{ operator: 'Exists' }]);
  });

  it('gives the container only the capabilities it needs, bounded resources and the token from a Secret', async () => {
    const pod = ((await load())[1] as DaemonSet).spec.template.spec;
    const [container] = pod.containers;
    expect(container?.securityContext.privileged).toBe(false);
    expect(container?.securityContext.capabilities).toEqual({
      drop: ['ALL'],
      add: ['SYS_PTRACE', 'KILL', 'NET_ADMIN', 'DAC_READ_SEARCH'],
    });
    expect(container?.resources).toEqual({
      requests: { cpu: '100m', memory: '128Mi' },
      limits: { cpu: '500m', memory: '256Mi' },
    });
    expect(container?.env.find((e) => e.name === 'MAMORI_DEFENDER_TOKEN')?.valueFrom).toEqual({
      secretKeyRef: { name: 'mamori-defender', key: 'token' },
    });
  });

  it('mounts the host read-only except the spool', async () => {
    const pod = ((await load())[1] as DaemonSet).spec.template.spec;
    const hostPaths = new Map(pod.volumes.map((v) => [v.name, v.hostPath?.path]));
    const mounts = pod.containers[0]!.volumeMounts.map((m) => ({
      host: hostPaths.get(m.name),
      at: m.mountPath,
      readOnly: m.readOnly === true,
    }));
    expect(mounts).toEqual(
      expect.arrayContaining([
        { host: '/proc', at: '/host/proc', readOnly: true },
        { host: '/sys/fs/cgroup', at: '/sys/fs/cgroup', readOnly: true },
        { host: '/var/lib/docker/containers', at: '/var/lib/docker/containers', readOnly: true },
        { host: '/etc', at: '/host/etc', readOnly: true },
        {
          host: '/var/lib/mamori/defender-spool',
          at: '/var/lib/mamori/defender-spool',
          readOnly: false,
        },
      ]),
    );
    const writable = mounts.filter((m) => m.host !== undefined && !m.readOnly).map((m) => m.host);
    expect(writable).toEqual(['/var/lib/mamori/defender-spool']);
  });
});
