import { readdirSync, readFileSync } from 'node:fs';

/**
 * What the benchmark reads of a process (and of the defender's proc-events helper) from /proc:
 * CPU time from `stat`, resident memory from `status`. Reads of a process that is gone give
 * undefined, so a sampler that outlives its process reports nothing instead of zeros.
 */

// /proc/<pid>/stat counts CPU in clock ticks: USER_HZ, 100 on Linux (`getconf CLK_TCK`).
const MS_PER_TICK = 10;

/** utime + stime of `pid` so far, in ms; undefined when it is gone. */
export function cpuMsOf(pid: number): number | undefined {
  const fields = statFields(pid);
  if (fields === undefined) return undefined;
  // After the comm field: state is field 3, utime 14, stime 15 (man 5 proc).
  return (Number(fields[11]) + Number(fields[12])) * MS_PER_TICK;
}

/** VmRSS (now) and VmHWM (peak) of `pid`, in MiB; undefined when it is gone. */
export function memoryOf(pid: number): { rssMb: number; peakMb: number } | undefined {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const kb = (name: string): number =>
    Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
  return { rssMb: kb('VmRSS') / 1024, peakMb: kb('VmHWM') / 1024 };
}

/**
 * The children of `pid`, from every process's parent in /proc (the kernel's
 * `task/<pid>/children` is not built into every kernel).
 */
export function childrenOf(pid: number): number[] {
  const children: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const fields = statFields(Number(name));
    if (fields !== undefined && Number(fields[1]) === pid) children.push(Number(name));
  }
  return children;
}

/** The fields of /proc/<pid>/stat after `(comm)`: [state, ppid, …]. */
function statFields(pid: number): string[] | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // comm may hold spaces and parentheses: the fields start after the last ')'.
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** CPU and memory of a set of processes over an interval, sampled every `everyMs`. */
export interface Usage {
  /** CPU of all of them over the interval, in percent of one core. */
  cpuPercent: number;
  /** Highest sum of their VmRSS seen, in MiB. */
  maxRssMb: number;
  /** Their VmRSS at the end, in MiB. */
  rssMb: number;
  seconds: number;
}

/**
 * Starts measuring the processes `pids()` names (asked again at each sample, so that a helper
 * restarted by the defender is followed); `stop()` gives their usage since the start.
 */
export function measureUsage(pids: () => readonly number[], everyMs = 500): { stop(): Usage } {
  const startedAt = performance.now();
  // CPU per pid at its first sample: a process that appears later counts from then on.
  const first = new Map<number, number>();
  const last = new Map<number, number>();
  let maxRssMb = 0;
  let rssMb = 0;
  const sample = (): void => {
    let rss = 0;
    for (const pid of pids()) {
      const cpu = cpuMsOf(pid);
      if (cpu === undefined) continue;
      if (!first.has(pid)) first.set(pid, cpu);
      last.set(pid, cpu);
      rss += memoryOf(pid)?.rssMb ?? 0;
    }
    rssMb = rss;
    maxRssMb = Math.max(maxRssMb, rss);
  };
  sample();
  const timer = setInterval(sample, everyMs);
  return {
    stop() {
      clearInterval(timer);
      sample();
      const ms = performance.now() - startedAt;
      let cpuMs = 0;
      for (const [pid, at] of last) cpuMs += at - (first.get(pid) ?? at);
      return {
        cpuPercent: Math.round((cpuMs / ms) * 1000) / 10,
        maxRssMb: Math.round(maxRssMb * 10) / 10,
        rssMb: Math.round(rssMb * 10) / 10,
        seconds: Math.round(ms / 100) / 10,
      };
    },
  };
}
