import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ErrorCode, MamoriError } from '@mamori/common';
import type { Event, Process, Workload } from '@mamori/proto';
import {
  createExeHasher,
  type ExeHashStats,
  DEFAULT_PROC_ROOT,
  ProcfsReader,
  WorkloadReader,
  parseCgroup,
  parseStat,
  parseStatus,
  type ProcfsOptions,
} from '../../procfs/index.js';
import type { EventPriority, Sensor, SensorContext, SensorStatus } from '../sensor.js';
import { parseHelperLine, type HelperEvent } from './helper-events.js';
import { LineSplitter } from './line-splitter.js';

/** Options of {@link createProcessSensor}. */
export interface ProcessSensorOptions extends ProcfsOptions {
  /**
   * `auto` uses the kernel's process events connector when it can (CAP_NET_ADMIN, helper
   * built, events arrive) and polls /proc otherwise; `poll` always polls. @default 'auto'
   */
  mode?: 'auto' | 'poll';
  /** How often the poller looks at /proc, in ms; at most 100. @default 100 */
  pollIntervalMs?: number;
  /** The proc-events helper. @default dist/native/proc-events of this package */
  helperPath?: string;
  /**
   * Largest executable whose SHA-256 goes in `exe_hash`, in bytes; 0 hashes none.
   * @default DEFAULT_EXE_HASH_MAX_BYTES
   */
  exeHashMaxBytes?: number;
}

/**
 * 64 MiB: the programs a node runs (shells, runtimes, miners of a few MB) and most large ones;
 * each file is read once while it stays unchanged.
 */
export const DEFAULT_EXE_HASH_MAX_BYTES = 64 * 1024 * 1024;

/** The hash counters of a sensor that hashes nothing. */
const NO_EXE_HASHES: ExeHashStats = {
  hashed: 0,
  cached: 0,
  tooLarge: 0,
  unreadable: 0,
  overBudget: 0,
};

/** Counters of a process sensor, for the agent's status reports. */
export interface ProcessSensorStats {
  execs: number;
  exits: number;
  /**
   * Events lost in connector mode: dropped by the kernel before the helper read them, or by
   * the helper when the agent read its output too slowly for its queue.
   */
  lost: number;
  /** Helper lines that were not events or were longer than the line bound. */
  malformed: number;
  /** Poll mode: scans of /proc for new and ended processes. */
  scans: number;
  /** Executables hashed, answered from the cache, too large, or unreadable (gone). */
  exeHashes: ExeHashStats;
  /**
   * Poll mode: reads put off to the next scan because the process was caught inside execve
   * (its new program mapped, its arguments not yet).
   */
  deferred: number;
}

export interface ProcessSensor extends Sensor {
  stats(): ProcessSensorStats;
}

const SENSOR_NAME = 'process';
// The poller's interval (ms): processes shorter than this can be missed, so it stays short.
const DEFAULT_POLL_INTERVAL_MS = 100;
const MAX_POLL_INTERVAL_MS = 100;
// A full /proc scan at least this often (ticks), even when /proc/loadavg says nothing
// changed: that shortcut can be fooled when the agent's pid namespace is not /proc's.
const FULL_SCAN_EVERY_TICKS = 10;
// Helper lines are bounded (bytes): a 32 KiB command line escapes to at most ~200 KiB.
const MAX_LINE_BYTES = 1 << 20;
// Events waiting for enrichment before the helper's output is paused (and resumed below the
// low mark); the kernel then buffers, and drops what it cannot hold as counted losses.
const HIGH_WATER = 1_000;
const LOW_WATER = 100;
// Processes remembered for their exit events; beyond this the oldest are forgotten.
const MAX_KNOWN_PROCESSES = 65_536;
// How long the helper gets to prove events arrive (it gives itself 10 s: a node busy at boot
// must not lose the connector for good), ms.
const HELPER_READY_TIMEOUT_MS = 15_000;
// Scans that look again at a process read with no arguments (inside execve) before it is
// reported as it is.
const MID_EXEC_RETRIES = 3;
const CAP_NET_ADMIN = 12;

function defaultHelperPath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  // From dist/sensors/process/ (built) or src/sensors/process/ (sources, tests).
  const candidates = [
    join(here, '..', '..', 'native', 'proc-events'),
    join(here, '..', '..', '..', 'dist', 'native', 'proc-events'),
  ];
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Next.
    }
  }
  return candidates[0] ?? 'proc-events';
}

function hasNetAdmin(procRoot: string): boolean {
  try {
    const cap =
      parseStatus(readFileSync(join(procRoot, 'self', 'status'), 'utf8')).capEffective ?? 0;
    return Math.floor(cap / 2 ** CAP_NET_ADMIN) % 2 === 1;
  } catch {
    return false;
  }
}

interface Known {
  process: Process;
  workload: Workload | undefined;
  /** stat starttime, the identity with the pid (poller). */
  startTicks: number;
}

/** Creates the process sensor: every exec and exit, as process_exec / process_exit events. */
export function createProcessSensor(options: ProcessSensorOptions = {}): ProcessSensor {
  const procRoot = options.procRoot ?? DEFAULT_PROC_ROOT;
  const pollIntervalMs = options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
  if (!(pollIntervalMs > 0 && pollIntervalMs <= MAX_POLL_INTERVAL_MS)) {
    throw new MamoriError(
      ErrorCode.Config,
      `pollIntervalMs must be in (0, ${MAX_POLL_INTERVAL_MS}]`,
      {
        context: { field: 'pollIntervalMs', value: pollIntervalMs },
      },
    );
  }
  const exeHashMaxBytes = options.exeHashMaxBytes ?? DEFAULT_EXE_HASH_MAX_BYTES;
  const exeHasher =
    exeHashMaxBytes > 0 ? createExeHasher({ maxBytes: exeHashMaxBytes }) : undefined;
  const reader = new ProcfsReader({ ...options, ...(exeHasher ? { exeHasher } : {}) });
  const workloads = new WorkloadReader(options);
  const known = new Map<number, Known>();
  const stats: Omit<ProcessSensorStats, 'exeHashes'> = {
    execs: 0,
    exits: 0,
    lost: 0,
    malformed: 0,
    scans: 0,
    deferred: 0,
  };

  let context: SensorContext | undefined;
  let stopped = false;
  let chain: Promise<void> = Promise.resolve();
  let pending = 0;
  let helper: ChildProcess | undefined;
  let timer: NodeJS.Timeout | undefined;

  function remember(pid: number, entry: Known): void {
    known.delete(pid);
    known.set(pid, entry);
    if (known.size > MAX_KNOWN_PROCESSES) {
      const oldest = known.keys().next();
      if (oldest.done !== true) known.delete(oldest.value);
    }
  }

  /** Runs enrichment steps one at a time, so events leave in the order they happened. */
  function enqueue(step: () => Promise<void>): void {
    pending++;
    if (pending > HIGH_WATER) helper?.stdout?.pause();
    chain = chain
      .then(step)
      .catch((err: unknown) =>
        context?.logger.warn({ err }, 'process event could not be completed'),
      )
      .finally(() => {
        pending--;
        if (pending < LOW_WATER) helper?.stdout?.resume();
      });
  }

  function emit(event: Event, priority: EventPriority): void {
    if (stopped || context === undefined) return;
    context.emit(event, priority);
  }

  function emitExec(entry: Known, observed: number): void {
    stats.execs++;
    const event: Event = {
      observed_unix_micros: observed,
      labels: { sensor: SENSOR_NAME },
      process_exec: { process: entry.process },
    };
    if (entry.workload !== undefined) event.workload = entry.workload;
    emit(event, 'high');
  }

  function emitExit(
    pid: number,
    observed: number,
    exit: { code: number; signal: number } | undefined,
  ): void {
    const entry = known.get(pid);
    known.delete(pid);
    stats.exits++;
    const labels: Record<string, string> = { sensor: SENSOR_NAME };
    // The poller cannot know how a process ended; 0 would read as success.
    if (exit === undefined) labels.exit_code = 'unknown';
    const event: Event = {
      observed_unix_micros: observed,
      labels,
      process_exit: {
        process: entry?.process ?? { pid },
        exit_code: exit?.code ?? 0,
        signal: exit?.signal ?? 0,
      },
    };
    if (entry?.workload !== undefined) event.workload = entry.workload;
    emit(event, 'low');
  }

  /** Remembers the processes running now, so that their exits say what they were. */
  async function seed(): Promise<Map<number, number>> {
    const identities = new Map<number, number>();
    for (const pid of listPidsSync(procRoot)) {
      const process = await reader.readProcess(pid, { maxAncestors: 0, streams: false });
      if (process === undefined) continue;
      const startTicks = readStartTicks(procRoot, pid);
      if (startTicks === undefined) continue;
      identities.set(pid, startTicks);
      remember(pid, { process, workload: await workloads.readWorkload(pid), startTicks });
    }
    return identities;
  }

  // ---- connector mode -------------------------------------------------------------------

  function onHelperEvent(event: HelperEvent): void {
    switch (event.e) {
      case 'exec': {
        const { snapshot, cgroup, t } = event;
        enqueue(async () => {
          const process = await reader.completeProcess(snapshot);
          const container = cgroup === undefined ? undefined : parseCgroup(cgroup);
          const workload =
            container !== undefined
              ? await workloads.describe(container)
              : cgroup === undefined
                ? await workloads.readWorkload(snapshot.pid)
                : undefined;
          const stat = snapshot.stat === undefined ? undefined : parseStat(snapshot.stat);
          const entry: Known = { process, workload, startTicks: stat?.startTicks ?? 0 };
          remember(snapshot.pid, entry);
          emitExec(entry, t);
        });
        return;
      }
      case 'exit':
        enqueue(() => {
          emitExit(event.pid, event.t, { code: event.code, signal: event.signal });
          return Promise.resolve();
        });
        return;
      case 'lost':
        stats.lost += event.count;
        context?.logger.warn(
          { lost: event.count, totalLost: stats.lost },
          event.reason === 'queue'
            ? 'process events dropped: the agent read the helper too slowly'
            : 'kernel dropped process events',
        );
        return;
      default:
        return;
    }
  }

  /** Starts the helper; resolves once it proved events arrive, rejects with why not. */
  function startHelper(path: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let ready = false;
      let failure: string | undefined;
      const child = spawn(path, [], { stdio: ['pipe', 'pipe', 'pipe'] });
      helper = child;
      const timeout = setTimeout(() => {
        if (!ready) {
          reject(new Error('proc-events did not become ready'));
          child.kill('SIGKILL');
        }
      }, HELPER_READY_TIMEOUT_MS);
      const splitter = new LineSplitter(MAX_LINE_BYTES, (line) => {
        const event = parseHelperLine(line);
        if (event === undefined) {
          stats.malformed++;
          return;
        }
        if (event.e === 'ready') {
          ready = true;
          clearTimeout(timeout);
          resolve();
        } else if (event.e === 'error') {
          failure = event.reason;
        } else {
          onHelperEvent(event);
        }
      });
      child.stdout.on('data', (chunk: Buffer) => splitter.push(chunk));
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => {
        if (stderr.length < 4096) stderr += chunk.toString('utf8');
      });
      // The helper exits when its stdin closes; an EPIPE here just means it is already gone.
      child.stdin.on('error', () => undefined);
      child.on('error', (err) => {
        clearTimeout(timeout);
        reject(err);
      });
      child.on('exit', (code, signal) => {
        clearTimeout(timeout);
        stats.malformed += splitter.overlong;
        if (!ready) {
          reject(new Error(failure ?? (stderr.trim() || `proc-events exited (${code ?? signal})`)));
          return;
        }
        if (stopped) return;
        // Died while running: keep observing by polling rather than going blind.
        context?.logger.error(
          { code, signal, reason: failure },
          'proc-events exited; process sensor falls back to polling /proc',
        );
        helper = undefined;
        void seed().then((identities) => startPolling(identities));
      });
    });
  }

  // ---- poll mode -------------------------------------------------------------------------

  function startPolling(identities: Map<number, number>): void {
    let lastSignature = '';
    /** Pids read with no arguments yet, and how often. */
    const midExec = new Map<number, number>();
    let lastPid = -1;
    let ticks = 0;

    const tick = (): void => {
      timer = undefined;
      if (stopped) return;
      ticks++;
      let signature: string | undefined;
      let newLastPid = -1;
      try {
        // "0.00 0.01 0.05 1/84 4422": runnable/total tasks and the last pid handed out.
        const fields = readFileSync(join(procRoot, 'loadavg'), 'latin1').trim().split(' ');
        newLastPid = Number(fields[4]);
        signature = `${fields[3]?.split('/')[1]} ${fields[4]}`;
      } catch {
        signature = undefined;
      }
      if (
        signature !== undefined &&
        signature === lastSignature &&
        ticks % FULL_SCAN_EVERY_TICKS !== 0
      ) {
        schedule();
        return;
      }
      lastSignature = signature ?? '';
      stats.scans++;
      const now = Date.now() * 1000;
      const current = new Set(listPidsSync(procRoot));
      for (const [pid] of identities) {
        if (!current.has(pid)) {
          identities.delete(pid);
          enqueue(() => {
            emitExit(pid, now, undefined);
            return Promise.resolve();
          });
        }
      }
      const allocatedSince = (pid: number): boolean =>
        lastPid < 0 || newLastPid < 0
          ? false
          : newLastPid >= lastPid
            ? pid > lastPid && pid <= newLastPid
            : pid > lastPid || pid <= newLastPid;
      for (const pid of current) {
        const previous = identities.get(pid);
        // A known pid is only re-read when pid allocation passed over it since last time.
        if (previous !== undefined && !allocatedSince(pid)) continue;
        const startTicks = readStartTicks(procRoot, pid);
        if (startTicks === undefined || startTicks === previous) continue;
        if (previous !== undefined) {
          enqueue(() => {
            emitExit(pid, now, undefined);
            return Promise.resolve();
          });
        }
        identities.set(pid, startTicks);
        enqueue(async () => {
          const process = await reader.readProcess(pid);
          // Gone before we looked: nothing trustworthy to report under this pid.
          if (process === undefined || readStartTicks(procRoot, pid) !== startTicks) return;
          // Caught inside execve (the new image is mapped, its arguments not yet): look again
          // at the next scan rather than report an empty command line, a few times at most.
          if ((process.args ?? []).length === 0 && (process.exe ?? '') !== '') {
            const tries = (midExec.get(pid) ?? 0) + 1;
            if (tries <= MID_EXEC_RETRIES) {
              midExec.set(pid, tries);
              stats.deferred++;
              identities.delete(pid);
              lastSignature = '';
              return;
            }
          }
          midExec.delete(pid);
          const entry: Known = { process, workload: await workloads.readWorkload(pid), startTicks };
          remember(pid, entry);
          emitExec(entry, now);
        });
      }
      if (newLastPid >= 0) lastPid = newLastPid;
      schedule();
    };
    const schedule = (): void => {
      if (stopped) return;
      timer = setTimeout(tick, pollIntervalMs);
      timer.unref();
    };
    tick();
  }

  const pollStatus = (reason: string): SensorStatus => ({
    sensor: SENSOR_NAME,
    mode: `procfs-poll every ${pollIntervalMs} ms`,
    limitations: [
      `short-lived processes (< ${pollIntervalMs} ms) can be missed`,
      'exit codes are unknown (labels.exit_code = unknown)',
      'an exec that replaces a running program without a new process (sh -c "exec …") is not seen',
      reason,
    ],
  });

  return {
    name: SENSOR_NAME,
    stats: () => ({ ...stats, exeHashes: exeHasher?.stats() ?? NO_EXE_HASHES }),

    async start(ctx: SensorContext): Promise<SensorStatus> {
      context = ctx;
      try {
        readdirSync(procRoot);
      } catch (err) {
        throw new MamoriError(ErrorCode.Config, 'procfs is not readable', {
          cause: err,
          context: { procRoot },
        });
      }
      let reason: string;
      if (options.mode === 'poll') {
        reason = 'polling was asked for';
      } else if (!hasNetAdmin(procRoot)) {
        reason = 'no CAP_NET_ADMIN for the process events connector';
      } else {
        const path = options.helperPath ?? defaultHelperPath();
        try {
          accessSync(path, constants.X_OK);
          // Subscribe first, then remember what runs: nothing starts unseen in between.
          await startHelper(path);
          await seedConnector();
          return {
            sensor: SENSOR_NAME,
            mode: 'proc-connector',
            limitations: [
              'a process that exits within microseconds of its exec may be reported with its pid and name only',
              'exits of processes that started before the sensor carry no ancestors or streams',
            ],
          };
        } catch (err) {
          helper?.kill('SIGKILL');
          helper = undefined;
          reason = `process events connector unavailable: ${err instanceof Error ? err.message : String(err)}`;
          ctx.logger.warn({ err, helperPath: path }, 'process sensor falls back to polling /proc');
        }
      }
      startPolling(await seed());
      return pollStatus(reason);
    },

    async stop(): Promise<void> {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      const child = helper;
      helper = undefined;
      if (child !== undefined && child.exitCode === null && child.signalCode === null) {
        await new Promise<void>((resolve) => {
          const kill = setTimeout(() => child.kill('SIGKILL'), 2_000);
          child.once('exit', () => {
            clearTimeout(kill);
            resolve();
          });
          child.stdin?.end();
          child.kill('SIGTERM');
        });
      }
      await chain;
    },
  };

  async function seedConnector(): Promise<void> {
    // Exec events that come in while this runs are newer: they win.
    for (const pid of listPidsSync(procRoot)) {
      if (known.has(pid)) continue;
      const process = await reader.readProcess(pid, { maxAncestors: 0, streams: false });
      if (process === undefined || known.has(pid)) continue;
      remember(pid, {
        process,
        workload: await workloads.readWorkload(pid),
        startTicks: readStartTicks(procRoot, pid) ?? 0,
      });
    }
  }
}

function listPidsSync(procRoot: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync(procRoot)) {
    const code = name.charCodeAt(0);
    if (code >= 48 && code <= 57) pids.push(Number(name));
  }
  return pids;
}

function readStartTicks(procRoot: string, pid: number): number | undefined {
  try {
    return parseStat(readFileSync(join(procRoot, String(pid), 'stat'), 'latin1'))?.startTicks;
  } catch {
    return undefined;
  }
}
