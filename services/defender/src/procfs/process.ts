import { readFileSync, readlinkSync } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Process } from '@mamori/proto';
import { startTicksToUnixMicros } from './clock.js';
import type { ExeHasher } from './exe-hash.js';
import { rootOverlayUpperDir } from './mountinfo.js';
import { DEFAULT_HOST_ROOT, DEFAULT_PROC_ROOT, type ProcfsOptions } from './options.js';
import {
  parseLoginUid,
  parseStat,
  parseStatus,
  splitCmdline,
  ttyName,
  type ProcStat,
} from './stat.js';
import { fdTypeFromLink, resolveSocketTypes } from './streams.js';
import { UserResolver } from './users.js';

export type ProcessAncestor = NonNullable<Process['ancestors']>[number];

/** Options of {@link ProcfsReader.readProcess}. */
export interface ReadProcessOptions {
  /** How many ancestors to read, nearest first. @default 8 */
  maxAncestors?: number;
  /** Whether to find what fds 0-2 are connected to (reads /proc/<pid>/fd and net tables). @default true */
  streams?: boolean;
}

/**
 * The raw facts about a process as read from /proc at one moment, before names are resolved
 * and ancestors read. The proc-events helper reads these right at exec, while a short-lived
 * process still exists; {@link ProcfsReader.completeProcess} turns them into a Process.
 */
export interface ProcessSnapshot {
  pid: number;
  /** The /proc/<pid>/stat line. */
  stat?: string;
  args?: string[];
  exe?: string;
  cwd?: string;
  uid?: number;
  gid?: number;
  capEffective?: number;
  loginUid?: number;
  /** Link targets of fds 0, 1, 2 ('' when unreadable). */
  fdLinks?: string[];
  /** readlink of /proc/<pid>/ns/mnt. */
  mntNs?: string;
  /**
   * The program file's identity (`dev:ino:size:mtimeNs:ctimeNs`) read while the process ran:
   * lets the executable be hashed from its path once the process is gone.
   */
  exeIdentity?: string;
}

const DEFAULT_MAX_ANCESTORS = 8;
const MAX_CACHED_NAMESPACES = 512;

// procfs files are made by the kernel when read, in microseconds, and never block on a disk:
// read synchronously. Through fs/promises each read took four trips through libuv's thread pool
// (open, fstat, read, close) and cost more than the read itself (bench:defender: ~5 ms of CPU
// per process at 200 execs a second).
function readText(path: string): Promise<string | undefined> {
  return Promise.resolve(readTextSync(path));
}

function readTextSync(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function readLink(path: string): Promise<string | undefined> {
  try {
    return Promise.resolve(readlinkSync(path));
  } catch {
    return Promise.resolve(undefined);
  }
}

/**
 * Reads processes from procfs. Keeps small caches (users per mount namespace, overlay upper
 * directories), so one reader is shared by a sensor for its lifetime.
 */
export class ProcfsReader {
  readonly procRoot: string;
  readonly hostRoot: string;
  readonly #users: UserResolver;
  readonly #upperDirs = new Map<string, string | undefined>();

  readonly #exeHasher: ExeHasher | undefined;

  /** With `exeHasher`, processes carry the SHA-256 of their executable (`exe_hash`). */
  constructor(options: ProcfsOptions & { exeHasher?: ExeHasher } = {}) {
    this.procRoot = options.procRoot ?? DEFAULT_PROC_ROOT;
    this.hostRoot = options.hostRoot ?? DEFAULT_HOST_ROOT;
    this.#users = new UserResolver(this.procRoot, this.hostRoot);
    this.#exeHasher = options.exeHasher;
  }

  #path(pid: number, ...rest: string[]): string {
    return join(this.procRoot, String(pid), ...rest);
  }

  /** Reads the raw facts of a process; undefined when it is gone (no stat). */
  async readSnapshot(
    pid: number,
    options: { streams?: boolean } = {},
  ): Promise<ProcessSnapshot | undefined> {
    const streams = options.streams ?? true;
    const [stat, cmdline, exe, cwd, status, loginuid, mntNs, fd0, fd1, fd2] = await Promise.all([
      readText(this.#path(pid, 'stat')),
      readText(this.#path(pid, 'cmdline')),
      readLink(this.#path(pid, 'exe')),
      readLink(this.#path(pid, 'cwd')),
      readText(this.#path(pid, 'status')),
      readText(this.#path(pid, 'loginuid')),
      readLink(this.#path(pid, 'ns', 'mnt')),
      streams ? readLink(this.#path(pid, 'fd', '0')) : undefined,
      streams ? readLink(this.#path(pid, 'fd', '1')) : undefined,
      streams ? readLink(this.#path(pid, 'fd', '2')) : undefined,
    ]);
    if (stat === undefined) return undefined;
    const parsedStatus = status === undefined ? undefined : parseStatus(status);
    return {
      pid,
      stat,
      args: cmdline === undefined ? [] : splitCmdline(cmdline),
      exe: exe ?? '',
      cwd: cwd ?? '',
      uid: parsedStatus?.uid,
      gid: parsedStatus?.gid,
      capEffective: parsedStatus?.capEffective,
      loginUid: loginuid === undefined ? -1 : parseLoginUid(loginuid),
      fdLinks: streams ? [fd0 ?? '', fd1 ?? '', fd2 ?? ''] : undefined,
      mntNs,
    };
  }

  /**
   * Reads a process: identity, executable, command line, user, terminal, ancestors, standard
   * streams and capabilities. Resolves undefined when the process is gone; never throws for
   * files it may not read (those fields stay empty).
   */
  async readProcess(pid: number, options: ReadProcessOptions = {}): Promise<Process | undefined> {
    const snapshot = await this.readSnapshot(pid, { streams: options.streams });
    if (snapshot === undefined) return undefined;
    return this.completeProcess(snapshot, options);
  }

  /**
   * Turns a snapshot into a Process: resolves the user, terminal and start time, reads the
   * ancestors and socket types (from the parent when the process itself is already gone).
   */
  async completeProcess(
    snapshot: ProcessSnapshot,
    options: ReadProcessOptions = {},
  ): Promise<Process> {
    const stat: ProcStat | undefined =
      snapshot.stat === undefined ? undefined : parseStat(snapshot.stat);
    const pid = snapshot.pid;
    const ppid = stat?.ppid ?? 0;
    const uid = snapshot.uid ?? -1;
    const maxAncestors = options.maxAncestors ?? DEFAULT_MAX_ANCESTORS;
    const lookupPids = ppid > 0 ? [pid, ppid] : [pid];
    const [user, ancestors, streams, upperLayer, exeHash] = await Promise.all([
      this.#users.name(uid, { pid, ppid, mntNs: snapshot.mntNs }),
      maxAncestors > 0 ? this.readAncestors(ppid, maxAncestors) : Promise.resolve([]),
      snapshot.fdLinks === undefined
        ? Promise.resolve(['', '', ''])
        : resolveSocketTypes(this.procRoot, lookupPids, snapshot.fdLinks.map(fdTypeFromLink)),
      this.#exeUpperLayer(snapshot, lookupPids),
      this.#exeHash(snapshot, stat),
    ]);
    const process: Process = {
      pid,
      ppid,
      name: stat?.comm ?? '',
      exe: snapshot.exe ?? '',
      args: snapshot.args ?? [],
      cwd: snapshot.cwd ?? '',
      uid,
      gid: snapshot.gid ?? -1,
      user,
      tty: stat === undefined ? '' : ttyName(stat.ttyNr),
      start_unix_micros:
        stat === undefined ? 0 : startTicksToUnixMicros(this.procRoot, stat.startTicks),
      ancestors,
      login_uid: snapshot.loginUid ?? -1,
      stdin_type: streams[0] ?? '',
      stdout_type: streams[1] ?? '',
      stderr_type: streams[2] ?? '',
      exe_upper_layer: upperLayer,
    };
    if (snapshot.capEffective !== undefined) process.cap_effective = snapshot.capEffective;
    if (exeHash !== undefined) process.exe_hash = exeHash;
    return process;
  }

  /**
   * The executable's hash, read through /proc/<pid>/exe while the process runs; undefined
   * without a hasher, for a process without a program (a kernel thread), and once the pid no
   * longer holds the process of the snapshot (it ended, and the pid may be another's).
   */
  #exeHash(snapshot: ProcessSnapshot, stat: ProcStat | undefined): Promise<string | undefined> {
    const exe = snapshot.exe ?? '';
    if (this.#exeHasher === undefined || exe === '') return Promise.resolve(undefined);
    const statPath = this.#path(snapshot.pid, 'stat');
    const stillSame = (): boolean => {
      if (stat === undefined) return true;
      const now = readTextSync(statPath);
      return now !== undefined && parseStat(now)?.startTicks === stat.startTicks;
    };
    // Gone already: the file at its path, if it is still the very file the process ran.
    const gone =
      snapshot.exeIdentity !== undefined && exe.startsWith('/')
        ? { identity: snapshot.exeIdentity, path: join(this.hostRoot, exe) }
        : undefined;
    return this.#exeHasher.hash(this.#path(snapshot.pid, 'exe'), stillSame, gone);
  }

  /** The chain of parents from `ppid` up, nearest first, at most `max`; stops at pid 0. */
  async readAncestors(
    ppid: number,
    max: number = DEFAULT_MAX_ANCESTORS,
  ): Promise<ProcessAncestor[]> {
    const ancestors: ProcessAncestor[] = [];
    let pid = ppid;
    while (pid > 0 && ancestors.length < max) {
      const [statText, exe, cmdline] = await Promise.all([
        readText(this.#path(pid, 'stat')),
        readLink(this.#path(pid, 'exe')),
        readText(this.#path(pid, 'cmdline')),
      ]);
      const stat = statText === undefined ? undefined : parseStat(statText);
      if (stat === undefined) break;
      ancestors.push({
        pid,
        name: stat.comm,
        exe: exe ?? '',
        args: cmdline === undefined ? [] : splitCmdline(cmdline),
      });
      if (stat.ppid === pid) break;
      pid = stat.ppid;
    }
    return ancestors;
  }

  /**
   * When the process was started, in microseconds since the epoch (same value as
   * Process.start_unix_micros); undefined when it is gone. A pid with another start time is
   * another process.
   */
  async processStartTime(pid: number): Promise<number | undefined> {
    const text = await readText(this.#path(pid, 'stat'));
    const stat = text === undefined ? undefined : parseStat(text);
    return stat === undefined ? undefined : startTicksToUnixMicros(this.procRoot, stat.startTicks);
  }

  /**
   * True when the executable exists in the overlayfs upper directory of the process's root
   * (written or changed after the container started). False when it cannot tell: a host
   * process, mountinfo unreadable, or the upper directory not reachable from here.
   */
  async #exeUpperLayer(snapshot: ProcessSnapshot, pids: readonly number[]): Promise<boolean> {
    const exe = snapshot.exe ?? '';
    if (!exe.startsWith('/')) return false;
    const key = snapshot.mntNs;
    let upper: string | undefined;
    if (key !== undefined && this.#upperDirs.has(key)) {
      upper = this.#upperDirs.get(key);
    } else {
      let mountinfo: string | undefined;
      for (const pid of pids) {
        mountinfo = await readText(this.#path(pid, 'mountinfo'));
        if (mountinfo !== undefined) break;
      }
      if (mountinfo === undefined) return false;
      upper = rootOverlayUpperDir(mountinfo);
      if (key !== undefined) {
        this.#upperDirs.set(key, upper);
        if (this.#upperDirs.size > MAX_CACHED_NAMESPACES) {
          const oldest = this.#upperDirs.keys().next();
          if (oldest.done !== true) this.#upperDirs.delete(oldest.value);
        }
      }
    }
    if (upper === undefined) return false;
    try {
      const stats = await lstat(join(this.hostRoot, upper, exe));
      return stats.isFile();
    } catch {
      return false;
    }
  }
}

const sharedReaders = new Map<string, ProcfsReader>();

function sharedReader(options: ProcfsOptions = {}): ProcfsReader {
  const key = `${options.procRoot ?? DEFAULT_PROC_ROOT}\0${options.hostRoot ?? DEFAULT_HOST_ROOT}`;
  let reader = sharedReaders.get(key);
  if (reader === undefined) {
    reader = new ProcfsReader(options);
    sharedReaders.set(key, reader);
  }
  return reader;
}

/** {@link ProcfsReader.readProcess} on a reader shared per procfs root. */
export function readProcess(
  pid: number,
  options: ReadProcessOptions & ProcfsOptions = {},
): Promise<Process | undefined> {
  return sharedReader(options).readProcess(pid, options);
}

/** {@link ProcfsReader.processStartTime} on a reader shared per procfs root. */
export function processStartTime(
  pid: number,
  options: ProcfsOptions = {},
): Promise<number | undefined> {
  return sharedReader(options).processStartTime(pid);
}

/** Pids of all processes (thread-group leaders) in procfs, unordered. */
export async function listPids(options: ProcfsOptions = {}): Promise<number[]> {
  const names = await readdir(options.procRoot ?? DEFAULT_PROC_ROOT);
  const pids: number[] = [];
  for (const name of names) {
    const code = name.charCodeAt(0);
    if (code >= 48 && code <= 57) pids.push(Number(name));
  }
  return pids;
}
