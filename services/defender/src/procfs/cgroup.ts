/** What a process's cgroup paths say about its container. */
export interface CgroupContainer {
  containerId: string;
  /** docker, containerd, cri-o, podman; '' when the path form does not say. */
  runtime: string;
  /** The Kubernetes pod uid (with dashes) from a kubepods path; '' outside Kubernetes. */
  podUid: string;
}

const HEX64 = '[0-9a-f]{64}';
// Scope (systemd driver) and plain (cgroupfs driver) leaf forms, with the runtime each names.
const LEAF_FORMS: readonly { pattern: RegExp; runtime: string }[] = [
  { pattern: new RegExp(`^docker-(${HEX64})\\.scope$`), runtime: 'docker' },
  { pattern: new RegExp(`^cri-containerd-(${HEX64})\\.scope$`), runtime: 'containerd' },
  { pattern: new RegExp(`^crio-(${HEX64})(?:\\.scope)?$`), runtime: 'cri-o' },
  { pattern: new RegExp(`^libpod-(${HEX64})(?:\\.scope)?$`), runtime: 'podman' },
];
const BARE_ID = new RegExp(`^(${HEX64})$`);
// kubepods/burstable/pod<uid> (cgroupfs) or kubepods-burstable-pod<uid with _>.slice (systemd).
const POD_SEGMENT =
  /^(?:kubepods-(?:[a-z]+-)?)?pod([0-9a-f]{8}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{12})(?:\.slice)?$/;

function parsePath(path: string): CgroupContainer | undefined {
  const segments = path.split('/');
  let podUid = '';
  let found: { containerId: string; runtime: string } | undefined;
  const inKubepods = segments.some(
    (s) => s === 'kubepods' || s.startsWith('kubepods.') || s.startsWith('kubepods-'),
  );
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i] ?? '';
    const pod = POD_SEGMENT.exec(segment);
    if (pod?.[1] !== undefined && inKubepods) {
      podUid = pod[1].replaceAll('_', '-');
      continue;
    }
    for (const { pattern, runtime } of LEAF_FORMS) {
      const match = pattern.exec(segment);
      if (match?.[1] !== undefined) found = { containerId: match[1], runtime };
    }
    const bare = BARE_ID.exec(segment);
    if (bare?.[1] !== undefined) {
      // /docker/<id> is Docker's cgroupfs form; under kubepods the runtime is not in the path.
      found = { containerId: bare[1], runtime: segments[i - 1] === 'docker' ? 'docker' : '' };
    }
    // The first container on the path is the one the process is in; deeper segments are
    // the container's own cgroups (a systemd inside, Docker-in-Docker's children).
    if (found !== undefined) break;
  }
  return found === undefined ? undefined : { ...found, podUid };
}

/**
 * The container of a process from its /proc/<pid>/cgroup text (cgroup v1 or v2 lines,
 * `hierarchy:controllers:path`); undefined for a host process.
 */
export function parseCgroup(text: string): CgroupContainer | undefined {
  let best: CgroupContainer | undefined;
  for (const line of text.split('\n')) {
    const first = line.indexOf(':');
    const second = first < 0 ? -1 : line.indexOf(':', first + 1);
    if (second < 0) continue;
    const found = parsePath(line.slice(second + 1));
    if (found === undefined) continue;
    if (best === undefined) best = found;
    else if (best.containerId === found.containerId) {
      best = {
        containerId: best.containerId,
        runtime: best.runtime || found.runtime,
        podUid: best.podUid || found.podUid,
      };
    }
  }
  return best;
}
