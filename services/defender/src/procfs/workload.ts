import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Workload } from '@mamori/proto';
import { parseCgroup, type CgroupContainer } from './cgroup.js';
import { DEFAULT_HOST_ROOT, DEFAULT_PROC_ROOT, type ProcfsOptions } from './options.js';

/** An image reference split as the runtime recorded it; nothing is normalised or guessed. */
export function parseImageReference(ref: string): {
  repository: string;
  tag: string;
  digest: string;
} {
  let rest = ref;
  let digest = '';
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  let tag = '';
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  return { repository: rest, tag, digest };
}

async function readJson(path: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as unknown;
  } catch {
    return undefined;
  }
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function stringMap(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(record(value))) if (typeof v === 'string') out[k] = v;
  return out;
}

function withImage(workload: Workload, ref: string): void {
  if (ref === '') return;
  const image = parseImageReference(ref);
  workload.image_repository = image.repository;
  workload.image_tag = image.tag;
  workload.image_digest = image.digest;
}

// Kubernetes labels every container's runtime record carries (dockershim, cri-dockerd, CRI-O).
const K8S_POD_NAME = 'io.kubernetes.pod.name';
const K8S_POD_NAMESPACE = 'io.kubernetes.pod.namespace';
const K8S_POD_UID = 'io.kubernetes.pod.uid';
const K8S_CONTAINER_NAME = 'io.kubernetes.container.name';

/** Docker: /var/lib/docker/containers/<id>/config.v2.json and hostconfig.json. */
async function fromDocker(hostRoot: string, workload: Workload): Promise<boolean> {
  const dir = join(hostRoot, 'var', 'lib', 'docker', 'containers', workload.container_id ?? '');
  const config = record(await readJson(join(dir, 'config.v2.json')));
  if (Object.keys(config).length === 0) return false;
  const inner = record(config.Config);
  const labels = stringMap(inner.Labels);
  workload.runtime = 'docker';
  workload.container_name = labels[K8S_CONTAINER_NAME] ?? text(config.Name).replace(/^\//, '');
  workload.pod_name = labels[K8S_POD_NAME] ?? '';
  workload.namespace = labels[K8S_POD_NAMESPACE] ?? '';
  if (labels[K8S_POD_UID]) workload.pod_uid = labels[K8S_POD_UID];
  withImage(workload, text(inner.Image));
  const hostConfig = record(await readJson(join(dir, 'hostconfig.json')));
  workload.privileged = hostConfig.Privileged === true;
  return true;
}

/** containerd's CRI: the task's OCI bundle, whose annotations name the pod and image. */
async function fromContainerd(hostRoot: string, workload: Workload): Promise<boolean> {
  const bundle = join(
    hostRoot,
    'run',
    'containerd',
    'io.containerd.runtime.v2.task',
    'k8s.io',
    workload.container_id ?? '',
  );
  const spec = record(await readJson(join(bundle, 'config.json')));
  if (Object.keys(spec).length === 0) return false;
  const annotations = stringMap(spec.annotations);
  workload.runtime = 'containerd';
  workload.container_name = annotations['io.kubernetes.cri.container-name'] ?? '';
  workload.pod_name = annotations['io.kubernetes.cri.sandbox-name'] ?? '';
  workload.namespace = annotations['io.kubernetes.cri.sandbox-namespace'] ?? '';
  if (annotations['io.kubernetes.cri.sandbox-uid'])
    workload.pod_uid = annotations['io.kubernetes.cri.sandbox-uid'];
  withImage(workload, annotations['io.kubernetes.cri.image-name'] ?? '');
  return true;
}

/** CRI-O (and Podman, same storage): overlay-containers/<id>/userdata/config.json annotations. */
async function fromContainersStorage(hostRoot: string, workload: Workload): Promise<boolean> {
  const id = workload.container_id ?? '';
  for (const base of [
    join(hostRoot, 'run', 'containers'),
    join(hostRoot, 'var', 'lib', 'containers'),
  ]) {
    const spec = record(
      await readJson(join(base, 'storage', 'overlay-containers', id, 'userdata', 'config.json')),
    );
    if (Object.keys(spec).length === 0) continue;
    const annotations = stringMap(spec.annotations);
    if (annotations[K8S_POD_NAME] !== undefined) {
      workload.runtime = 'cri-o';
      workload.container_name = annotations[K8S_CONTAINER_NAME] ?? '';
      workload.pod_name = annotations[K8S_POD_NAME];
      workload.namespace = annotations[K8S_POD_NAMESPACE] ?? '';
      if (annotations[K8S_POD_UID]) workload.pod_uid = annotations[K8S_POD_UID];
      withImage(workload, annotations['io.kubernetes.cri-o.ImageName'] ?? '');
      try {
        workload.pod_labels = stringMap(
          JSON.parse(annotations['io.kubernetes.cri-o.Labels'] ?? '{}'),
        );
        for (const key of [K8S_POD_NAME, K8S_POD_NAMESPACE, K8S_POD_UID, K8S_CONTAINER_NAME]) {
          delete workload.pod_labels[key];
        }
      } catch {
        // Labels stay unset.
      }
    } else if (workload.runtime === '') {
      workload.runtime = 'podman';
    }
    return true;
  }
  return false;
}

// Containers remembered with their metadata (which never changes for an id); oldest go first.
const MAX_CACHED_CONTAINERS = 1024;

/** Reads which container a process is in and what the node's runtime says about it. */
export class WorkloadReader {
  readonly #procRoot: string;
  readonly #hostRoot: string;
  readonly #cache = new Map<string, Workload>();

  constructor(options: ProcfsOptions = {}) {
    this.#procRoot = options.procRoot ?? DEFAULT_PROC_ROOT;
    this.#hostRoot = options.hostRoot ?? DEFAULT_HOST_ROOT;
  }

  /**
   * The workload of a process, undefined for a host process or one that is gone. Fields the
   * runtime's metadata on this node does not show stay empty.
   */
  async readWorkload(pid: number): Promise<Workload | undefined> {
    let cgroup: string;
    try {
      cgroup = await readFile(join(this.#procRoot, String(pid), 'cgroup'), 'utf8');
    } catch {
      return undefined;
    }
    const container = parseCgroup(cgroup);
    return container === undefined ? undefined : this.describe(container);
  }

  /** The workload of a container found in a cgroup path, with the runtime's metadata. */
  async describe(container: CgroupContainer): Promise<Workload> {
    const cached = this.#cache.get(container.containerId);
    if (cached !== undefined) return structuredClone(cached);
    const workload: Workload = {
      container_id: container.containerId,
      runtime: container.runtime,
      pod_uid: container.podUid,
    };
    const readers =
      container.runtime === 'docker'
        ? [fromDocker]
        : container.runtime === 'containerd'
          ? [fromContainerd]
          : container.runtime === 'cri-o' || container.runtime === 'podman'
            ? [fromContainersStorage]
            : [fromContainerd, fromContainersStorage, fromDocker];
    for (const read of readers) if (await read(this.#hostRoot, workload)) break;
    this.#cache.set(container.containerId, workload);
    if (this.#cache.size > MAX_CACHED_CONTAINERS) {
      const oldest = this.#cache.keys().next();
      if (oldest.done !== true) this.#cache.delete(oldest.value);
    }
    return structuredClone(workload);
  }
}

const sharedReaders = new Map<string, WorkloadReader>();

/** {@link WorkloadReader.readWorkload} on a reader shared per procfs and host root. */
export function readWorkload(
  pid: number,
  options: ProcfsOptions = {},
): Promise<Workload | undefined> {
  const key = `${options.procRoot ?? DEFAULT_PROC_ROOT}\0${options.hostRoot ?? DEFAULT_HOST_ROOT}`;
  let reader = sharedReaders.get(key);
  if (reader === undefined) {
    reader = new WorkloadReader(options);
    sharedReaders.set(key, reader);
  }
  return reader.readWorkload(pid);
}
