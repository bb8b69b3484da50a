import { spawn } from 'node:child_process';

export interface GeneratorOptions {
  /** The program to start (a copy of /bin/sleep under the run's marker name). */
  exe: string;
  args: readonly string[];
  /** Processes per second. */
  rate: number;
  seconds: number;
}

export interface GeneratorResult {
  /** Pids of the processes started, in order. */
  pids: number[];
  /** Processes per second actually started, first spawn to last. */
  achievedRate: number;
  /** spawn() calls that failed (EAGAIN, ENOMEM, …). */
  errors: number;
  /** Ticks that started their share more than a tick late (the generator fell behind). */
  lateTicks: number;
  /** CPU of this process while generating, in percent of one core. */
  cpuPercent: number;
  /** Processes still running when the wait for their exits gave up. */
  notExited: number;
}

// Spawns are batched per tick (ms): 200/s is 10 a tick, far cheaper in timers than one each.
const TICK_MS = 50;

/**
 * Starts `rate` processes a second for `seconds`, from this process, paced by the clock: each
 * 50 ms tick starts whatever the schedule owes by now, so a late tick catches up instead of
 * lowering the rate. Resolves once every process it started has exited (at most 10 s after
 * the last start).
 */
export async function runGenerator(options: GeneratorOptions): Promise<GeneratorResult> {
  const pids: number[] = [];
  let errors = 0;
  let lateTicks = 0;
  let running = 0;
  let allExited: (() => void) | undefined;
  const cpuBefore = process.cpuUsage();
  const startedAt = performance.now();
  let firstAt = 0;
  let lastAt = 0;
  const total = Math.round(options.rate * options.seconds);
  let attempted = 0;

  const start = (): void => {
    attempted++;
    // stdio ignored: no pipes to open and read, the cheapest spawn node has.
    const child = spawn(options.exe, options.args, { stdio: 'ignore' });
    child.once('error', () => {
      errors++;
    });
    if (child.pid === undefined) return;
    pids.push(child.pid);
    running++;
    child.once('exit', () => {
      running--;
      if (running === 0) allExited?.();
    });
  };

  await new Promise<void>((done) => {
    let expectedAt = startedAt;
    const tick = (): void => {
      const now = performance.now();
      if (now - expectedAt > TICK_MS) lateTicks++;
      const due = Math.min(total, Math.floor(((now - startedAt) / 1000) * options.rate) + 1);
      if (firstAt === 0) firstAt = now;
      while (attempted < due) start();
      lastAt = performance.now();
      if (attempted >= total) return done();
      expectedAt += TICK_MS;
      setTimeout(tick, Math.max(0, expectedAt - performance.now()));
    };
    tick();
  });
  const cpu = process.cpuUsage(cpuBefore);
  const cpuPercent =
    Math.round(((cpu.user + cpu.system) / 1000 / (performance.now() - startedAt)) * 1000) / 10;

  if (running > 0) {
    await Promise.race([
      new Promise<void>((resolve) => (allExited = resolve)),
      new Promise((resolve) => setTimeout(resolve, 10_000)),
    ]);
  }
  // The schedule's first start is at 0 s and its last at (total - 1) / rate.
  const spanSeconds = (lastAt - firstAt) / 1000;
  return {
    pids,
    achievedRate:
      spanSeconds > 0 ? Math.round(((pids.length - 1) / spanSeconds) * 10) / 10 : pids.length,
    errors,
    lateTicks,
    cpuPercent,
    notExited: running,
  };
}
