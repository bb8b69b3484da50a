import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createSilentLogger } from '@mamori/common';
import type { Event } from '@mamori/proto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createProcessSensor, type ProcessSensor } from '../../../src/sensors/process/index.js';

// The poller on a fake /proc: what it does with a process it catches inside execve, which a
// real machine shows only by chance.

let root: string;
let procRoot: string;
let sensor: ProcessSensor | undefined;

async function put(path: string, content: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, content);
}

/** Says a pid was handed out, as the kernel's loadavg does: the poller's cue to look. */
async function allocated(pid: number): Promise<void> {
  await put(join(procRoot, 'loadavg'), `0.00 0.00 0.00 1/${pid} ${pid}\n`);
}

async function fakeProcess(
  pid: number,
  comm: string,
  args: string[],
  exe: string | undefined,
): Promise<void> {
  const dir = join(procRoot, String(pid));
  await put(
    join(dir, 'stat'),
    `${pid} (${comm}) S 1 ${pid} ${pid} 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 ${1000 + pid} 0 0\n`,
  );
  await put(join(dir, 'cmdline'), args.map((a) => `${a}\0`).join(''));
  await put(join(dir, 'status'), `Name:\t${comm}\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\n`);
  if (exe !== undefined) await symlink(exe, join(dir, 'exe'));
  await allocated(pid);
}

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'mamori-poller-'));
  procRoot = join(root, 'proc');
  await put(join(procRoot, 'stat'), 'cpu  1 2 3\nbtime 1700000000\nprocesses 10\n');
  await fakeProcess(1, 'init', ['/sbin/init'], '/sbin/init');
});

afterEach(async () => {
  await sensor?.stop();
  sensor = undefined;
  await rm(root, { recursive: true, force: true });
});

async function startPoller(pollIntervalMs: number): Promise<Event[]> {
  const events: Event[] = [];
  sensor = createProcessSensor({
    mode: 'poll',
    procRoot,
    hostRoot: join(root, 'host'),
    pollIntervalMs,
  });
  await sensor.start({
    emit(event) {
      events.push(event);
      return true;
    },
    logger: createSilentLogger(),
  });
  return events;
}

const execOf = (events: Event[], pid: number) =>
  events.find((e) => e.process_exec?.process?.pid === pid)?.process_exec?.process;

describe('process sensor polling /proc', () => {
  it('looks again at a process caught inside execve, and reports it with its arguments', async () => {
    // Scans 100 ms apart (the most allowed): the arguments arrive well before the third look.
    const events = await startPoller(100);
    // The new program is mapped (exe), its arguments are not there yet (empty cmdline).
    await fakeProcess(500, 'curl', [], '/usr/bin/curl');
    await expect
      .poll(() => sensor!.stats().deferred, { interval: 5, timeout: 5000 })
      .toBeGreaterThanOrEqual(1);
    expect(execOf(events, 500)).toBeUndefined();

    await put(join(procRoot, '500', 'cmdline'), 'curl\0http://pool.example/x.sh\0');
    await expect
      .poll(() => execOf(events, 500))
      .toMatchObject({
        pid: 500,
        name: 'curl',
        exe: '/usr/bin/curl',
        args: ['curl', 'http://pool.example/x.sh'],
      });
    expect(events.filter((e) => e.process_exec?.process?.pid === 500)).toHaveLength(1);
  });

  it('reports a process whose arguments stay empty after a few looks, as it is', async () => {
    const events = await startPoller(10);
    await fakeProcess(600, 'odd', [], '/usr/bin/odd');
    await expect.poll(() => execOf(events, 600)).toMatchObject({ pid: 600, args: [] });
    // Three looks put off, then reported: never held back for good.
    expect(sensor!.stats().deferred).toBe(3);

    // Without a program (a kernel thread), an empty command line is no sign of execve.
    await fakeProcess(700, 'kworker/0:1', [], undefined);
    await expect.poll(() => execOf(events, 700)).toMatchObject({ pid: 700, args: [], exe: '' });
    expect(sensor!.stats().deferred).toBe(3);
    expect(sensor!.stats().scans).toBeGreaterThan(4);
  });
});
