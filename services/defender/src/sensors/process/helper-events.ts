import { isFileIdentity, parseCapHex, type ProcessSnapshot } from '../../procfs/index.js';

/** One line of the proc-events helper, checked. */
export type HelperEvent =
  | { e: 'ready' }
  | { e: 'error'; reason: string }
  | { e: 'lost'; count: number; reason: 'kernel' | 'queue' }
  | { e: 'exec'; t: number; snapshot: ProcessSnapshot; cgroup: string | undefined }
  | { e: 'exit'; pid: number; t: number; code: number; signal: number };

function num(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** Parses a helper line; undefined for anything that is not a well-formed event. */
export function parseHelperLine(line: string): HelperEvent | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof raw !== 'object' || raw === null) return undefined;
  const o = raw as Record<string, unknown>;
  switch (o.e) {
    case 'ready':
      return { e: 'ready' };
    case 'error':
      return { e: 'error', reason: str(o.reason) ?? 'unknown' };
    case 'lost':
      return {
        e: 'lost',
        count: num(o.count) ?? 0,
        reason: o.reason === 'queue' ? 'queue' : 'kernel',
      };
    case 'exit': {
      const pid = num(o.pid);
      if (pid === undefined) return undefined;
      return {
        e: 'exit',
        pid,
        t: num(o.t) ?? Date.now() * 1000,
        code: num(o.code) ?? 0,
        signal: num(o.signal) ?? 0,
      };
    }
    case 'exec': {
      const pid = num(o.pid);
      if (pid === undefined) return undefined;
      const args = Array.isArray(o.args)
        ? o.args.filter((a): a is string => typeof a === 'string')
        : [];
      const fd = Array.isArray(o.fd) ? o.fd.map((f) => str(f) ?? '') : undefined;
      const capHex = str(o.cap_eff);
      const snapshot: ProcessSnapshot = {
        pid,
        stat: str(o.stat),
        args,
        exe: str(o.exe) ?? '',
        cwd: str(o.cwd) ?? '',
        uid: num(o.uid),
        gid: num(o.gid),
        capEffective: capHex === undefined ? undefined : parseCapHex(capHex),
        loginUid: num(o.login_uid) ?? -1,
        fdLinks: fd,
        mntNs: str(o.mnt_ns),
      };
      const exeId = str(o.exe_id);
      if (exeId !== undefined && isFileIdentity(exeId)) snapshot.exeIdentity = exeId;
      return { e: 'exec', t: num(o.t) ?? Date.now() * 1000, snapshot, cgroup: str(o.cgroup) };
    }
    default:
      return undefined;
  }
}
