import { readFileSync } from 'node:fs';
import { join } from 'node:path';

// USER_HZ, the unit of stat's starttime. It is 100 on every architecture Linux still ships
// for servers; the aux vector says so authoritatively (AT_CLKTCK) and is read once.
const AT_CLKTCK = 17n;
const DEFAULT_CLK_TCK = 100;
let clkTck: number | undefined;

/** Clock ticks per second of /proc/<pid>/stat times (sysconf(_SC_CLK_TCK)). */
export function clockTicksPerSecond(): number {
  if (clkTck !== undefined) return clkTck;
  clkTck = DEFAULT_CLK_TCK;
  try {
    const auxv = readFileSync('/proc/self/auxv');
    // 64-bit little-endian pairs (type, value); other layouts keep the default.
    if (auxv.length % 16 === 0 && process.arch !== 'ia32' && process.arch !== 'arm') {
      for (let off = 0; off + 16 <= auxv.length; off += 16) {
        if (auxv.readBigUInt64LE(off) !== AT_CLKTCK) continue;
        const value = Number(auxv.readBigUInt64LE(off + 8));
        if (value > 0 && value <= 100_000) clkTck = value;
        break;
      }
    }
  } catch {
    // No procfs for ourselves (tests on a fake tree): keep the default.
  }
  return clkTck;
}

const bootTimes = new Map<string, number>();

/** Boot time in seconds since the epoch (btime of <procRoot>/stat), read once per root. */
export function bootTimeSeconds(procRoot: string): number {
  const cached = bootTimes.get(procRoot);
  if (cached !== undefined) return cached;
  let btime = 0;
  try {
    const match = /^btime (\d+)$/m.exec(readFileSync(join(procRoot, 'stat'), 'utf8'));
    if (match?.[1] !== undefined) btime = Number(match[1]);
  } catch {
    // Left at 0: start times are then relative to boot, which still orders and identifies.
  }
  bootTimes.set(procRoot, btime);
  return btime;
}

/** A stat starttime (ticks after boot) as microseconds since the epoch. */
export function startTicksToUnixMicros(procRoot: string, startTicks: number): number {
  return (
    bootTimeSeconds(procRoot) * 1_000_000 +
    Math.round((startTicks * 1_000_000) / clockTicksPerSecond())
  );
}
