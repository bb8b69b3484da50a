import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { createSilentLogger } from '@mamori/common';
import type { Event } from '@mamori/proto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createProcessSensor, type ProcessSensor } from '../../../src/sensors/process/index.js';
import type { SensorContext, SensorStatus } from '../../../src/sensors/sensor.js';

const packageDir = join(import.meta.dirname, '..', '..', '..');
let work: string;
let helperPath: string;
let xmrig: string;
const SH = realpathSync('/bin/sh');
const SLEEP = realpathSync('/bin/sleep');
const isRoot = process.getuid?.() === 0;
const sha256Of = (path: string) =>
  `sha256:${createHash('sha256').update(readFileSync(path)).digest('hex')}`;

beforeAll(() => {
  work = realpathSync(mkdtempSync(join(tmpdir(), 'mamori-process-sensor-')));
  execFileSync(process.execPath, [
    join(packageDir, 'scripts', 'build-native.js'),
    '--out',
    join(work, 'native'),
  ]);
  helperPath = join(work, 'native', 'proc-events');
  // A miner look-alike: a shell under another name, so it runs as long as we ask.
  xmrig = join(work, 'xmrig');
  copyFileSync(SH, xmrig);
});

afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Run {
  sensor: ProcessSensor;
  status: SensorStatus;
  events: { event: Event; priority: string | undefined }[];
}

let running: ProcessSensor | undefined;

afterEach(async () => {
  await running?.stop();
  running = undefined;
});

async function startSensor(mode: 'auto' | 'poll'): Promise<Run> {
  const events: Run['events'] = [];
  const context: SensorContext = {
    emit(event, priority) {
      events.push({ event, priority });
      return true;
    },
    logger: createSilentLogger(),
  };
  const sensor = createProcessSensor({ mode, helperPath });
  running = sensor;
  const status = await sensor.start(context);
  return { sensor, status, events };
}

/** Runs a command in `work` and resolves with its pid once it exited. */
function run(command: string, args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: work, stdio: 'ignore' });
    child.on('error', reject);
    child.on('exit', () => resolve(child.pid ?? -1));
  });
}

/**
 * Runs a command in `work` that lives until the sensor has reported its exec, then ends it:
 * what the helper read from /proc is then checked without racing the process's end.
 */
async function runUntilSeen(sensor: Run, command: string, args: string[]): Promise<number> {
  // In a process group of its own, so that ending it also ends what a shell started.
  const child = spawn(command, args, { cwd: work, stdio: 'ignore', detached: true });
  const exited = new Promise<void>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', () => resolve());
  });
  const pid = child.pid ?? -1;
  await expect.poll(() => execOf(sensor, pid), { timeout: 10_000 }).toBeDefined();
  process.kill(-pid, 'SIGTERM');
  await exited;
  return pid;
}

function execOf(run: Run, pid: number): Event | undefined {
  return run.events.find((e) => e.event.process_exec?.process?.pid === pid)?.event;
}

function exitOf(run: Run, pid: number): Event | undefined {
  return run.events.find((e) => e.event.process_exit?.process?.pid === pid)?.event;
}

const me = { uid: process.getuid?.() ?? -1, user: userInfo().username };

describe.skipIf(!isRoot)('process sensor on the process events connector', () => {
  it('reports exec and exit of a process with exe, args, cwd, user and parent chain', async () => {
    const sensor = await startSensor('auto');
    expect(sensor.status.mode).toBe('proc-connector');
    const pid = await runUntilSeen(sensor, 'sleep', ['30']);
    await expect.poll(() => exitOf(sensor, pid), { timeout: 10_000 }).toBeDefined();
    const exec = execOf(sensor, pid);
    expect(exec?.process_exec?.process).toMatchObject({
      pid,
      ppid: process.pid,
      name: 'sleep',
      exe: SLEEP,
      exe_hash: sha256Of(SLEEP),
      args: ['sleep', '30'],
      cwd: work,
      uid: me.uid,
      user: me.user,
      tty: '',
      stdin_type: 'file',
    });
    expect(exec?.process_exec?.process?.ancestors?.[0]).toMatchObject({
      pid: process.pid,
      exe: realpathSync(process.execPath),
    });
    expect(sensor.events.find((e) => e.event.process_exec?.process?.pid === pid)?.priority).toBe(
      'high',
    );
    expect(exitOf(sensor, pid)?.process_exit).toMatchObject({
      exit_code: 0,
      signal: 15,
      process: { pid, exe: SLEEP },
    });
    expect(sensor.events.find((e) => e.event.process_exit?.process?.pid === pid)?.priority).toBe(
      'low',
    );
  });

  it('sees a miner started with a stratum URL, and short-lived processes with their exit codes', async () => {
    const sensor = await startSensor('auto');
    const miner = await runUntilSeen(sensor, xmrig, [
      '-c',
      'sleep 30; exit 0',
      'stratum+tcp://pool.example:3333',
    ]);
    const quick = await run('sh', ['-c', 'exit 7']);
    const killed = await run('sh', ['-c', 'kill -9 $$']);
    await expect.poll(() => exitOf(sensor, killed), { timeout: 10_000 }).toBeDefined();
    await expect.poll(() => exitOf(sensor, miner), { timeout: 10_000 }).toBeDefined();
    expect(execOf(sensor, miner)?.process_exec?.process).toMatchObject({
      name: 'xmrig',
      exe: xmrig,
      args: [xmrig, '-c', 'sleep 30; exit 0', 'stratum+tcp://pool.example:3333'],
      cwd: work,
    });
    // Every exec is seen, however short; its details are read as fast as the helper can.
    expect(execOf(sensor, quick)).toBeDefined();
    // When the helper read its program it has a hash, whether the process still ran when the
    // agent completed it (hashed through /proc) or not (from its path, by the file identity the
    // helper read; exe-hash.test.ts makes that case happen).
    const quickProcess = execOf(sensor, quick)?.process_exec?.process;
    if (quickProcess?.exe === SH) expect(quickProcess.exe_hash).toBe(sha256Of(SH));
    await expect
      .poll(() => exitOf(sensor, quick)?.process_exit?.exit_code, { timeout: 10_000 })
      .toBe(7);
    expect(exitOf(sensor, killed)?.process_exit?.signal).toBe(9);
  });

  it('keeps arbitrary bytes in command lines as valid strings', async () => {
    const sensor = await startSensor('auto');
    // A shell that waits, with the odd bytes as its $0: the process lives until it is seen.
    // (`sleep 30 -- <odd bytes>` would exit at once on the bad interval and race the helper.)
    const odd = 'a\n"\\\u0001b';
    const pid = await runUntilSeen(sensor, 'sh', ['-c', 'sleep 30; exit 0', odd]);
    await expect.poll(() => exitOf(sensor, pid), { timeout: 10_000 }).toBeDefined();
    expect(execOf(sensor, pid)?.process_exec?.process?.args).toEqual([
      'sh',
      '-c',
      'sleep 30; exit 0',
      odd,
    ]);
  });

  it('reads a process while it runs even when the agent does not read the helper for a while', async () => {
    const helper = spawn(helperPath, [], { stdio: ['pipe', 'pipe', 'ignore'] });
    const chunks: Buffer[] = [];
    let text = '';
    helper.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    try {
      await expect
        .poll(() => (text = Buffer.concat(chunks).toString('utf8')), { timeout: 10_000 })
        .toContain('"e":"ready"');
      helper.stdout.pause();
      // Far more output than the pipe and the stream's buffer hold: a helper that waited for its
      // reader would now be stuck, and read the process below only after it ended.
      // 300 execs with 30 kB command lines: about 9 MB of lines.
      execFileSync('sh', [
        '-c',
        'x=$(head -c 30000 /dev/zero | tr "\\0" a); i=0; while [ $i -lt 300 ]; do /bin/true "$x"; i=$((i+1)); done',
      ]);
      const marked = spawn('sleep', ['0.3'], { argv0: 'mamori-marked-process', stdio: 'ignore' });
      await new Promise((resolve) => marked.on('exit', resolve));
      helper.stdout.resume();
      await expect
        .poll(() => (text = Buffer.concat(chunks).toString('utf8')), { timeout: 20_000 })
        .toMatch(new RegExp(`"e":"exit","pid":${marked.pid},`));
      const exec = text
        .split('\n')
        .find((line) => line.startsWith(`{"e":"exec","pid":${marked.pid},`));
      expect(exec).toBeDefined();
      expect(JSON.parse(exec ?? '{}')).toMatchObject({
        args: ['mamori-marked-process', '0.3'],
        exe: SLEEP,
      });
    } finally {
      helper.kill('SIGTERM');
    }
  });

  it('falls back to polling when the helper is missing', async () => {
    const events: Event[] = [];
    const sensor = createProcessSensor({ helperPath: join(work, 'no-such-helper') });
    running = sensor;
    const status = await sensor.start({
      emit: (e) => events.push(e) > 0,
      logger: createSilentLogger(),
    });
    expect(status.mode).toBe('procfs-poll every 100 ms');
    expect(status.limitations.join(' ')).toMatch(/short-lived processes/);
  });
});

describe('process sensor polling /proc', () => {
  it('reports exec and exit of processes that live past a poll', async () => {
    const sensor = await startSensor('poll');
    expect(sensor.status.mode).toBe('procfs-poll every 100 ms');
    expect(sensor.status.limitations.join(' ')).toMatch(
      /short-lived processes \(< 100 ms\) can be missed/,
    );
    const pid = await runUntilSeen(sensor, 'sleep', ['30']);
    const miner = await runUntilSeen(sensor, xmrig, [
      '-c',
      'sleep 30; exit 0',
      'stratum+tcp://pool.example:3333',
    ]);
    await expect.poll(() => exitOf(sensor, miner), { timeout: 10_000 }).toBeDefined();
    await expect.poll(() => exitOf(sensor, pid), { timeout: 10_000 }).toBeDefined();
    expect(execOf(sensor, pid)?.process_exec?.process).toMatchObject({
      pid,
      ppid: process.pid,
      exe: SLEEP,
      args: ['sleep', '30'],
      cwd: work,
      uid: me.uid,
      user: me.user,
    });
    expect(execOf(sensor, pid)?.process_exec?.process?.ancestors?.[0]?.pid).toBe(process.pid);
    expect(execOf(sensor, miner)?.process_exec?.process).toMatchObject({
      name: 'xmrig',
      exe_hash: sha256Of(xmrig),
      args: [xmrig, '-c', 'sleep 30; exit 0', 'stratum+tcp://pool.example:3333'],
    });
    expect(exitOf(sensor, pid)).toMatchObject({
      labels: { exit_code: 'unknown' },
      process_exit: { process: { pid, exe: SLEEP } },
    });
  });

  it('rejects a poll interval above 100 ms', () => {
    expect(() => createProcessSensor({ pollIntervalMs: 250 })).toThrow(/pollIntervalMs/);
  });

  it('says nothing about processes that were running before it started', async () => {
    const sensor = await startSensor('poll');
    await new Promise((r) => setTimeout(r, 300));
    expect(sensor.events.filter((e) => e.event.process_exec?.process?.pid === process.pid)).toEqual(
      [],
    );
  });
});
