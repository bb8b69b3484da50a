import { once } from 'node:events';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Event } from '@mamori/proto';
import { readProcess } from '../src/procfs/index.js';
import { AGENT, defender, longLived, manualSensor, platform, TENANT } from './support/platform.js';

let n = 0;
function exec(name: string, extra: Partial<Event> = {}): Event {
  n++;
  return {
    process_exec: {
      process: {
        pid: 100_000 + n,
        ppid: 1,
        name,
        exe: `/usr/bin/${name}`,
        args: [name, String(n)],
      },
    },
    ...extra,
  };
}

describe('defender', () => {
  it("streams what its sensors see to ingest, stamped with the agent's id and unique event ids", async () => {
    const p = await platform();
    const sensor = manualSensor();
    const { app } = await defender(p, [sensor]);
    for (let i = 0; i < 25; i++) sensor.emit(exec('ls'));
    await expect.poll(async () => (await p.events()).length, { timeout: 20_000 }).toBe(25);
    const events = await p.events();
    expect(new Set(events.map((e) => e.id)).size).toBe(25);
    expect(events.every((e) => e.tenant_id === TENANT && e.agent_id === AGENT)).toBe(true);
    expect(events.map((e) => e.process_exec?.process?.args[1])).toEqual(
      Array.from({ length: 25 }, (_, i) => String(n - 24 + i)),
    );
    await expect.poll(() => app.stats().spool.pending).toBe(0);
    expect(app.stats().link.sessions).toBe(1);
  });

  it('keeps events while ingest is away, in its spool, and delivers every one once, in order, when it returns', async () => {
    const p = await platform();
    const sensor = manualSensor();
    const { app } = await defender(p, [sensor], {
      // Fast reconnects for the test: the backoff's ceiling is what reconnects cost here.
      MAMORI_DEFENDER_BATCH_EVENTS: '5',
    });
    sensor.emit(exec('before'));
    await expect.poll(async () => (await p.events()).length, { timeout: 20_000 }).toBe(1);

    await p.stopIngest();
    const away = Array.from({ length: 40 }, () => exec('away'));
    for (const event of away) sensor.emit(event);
    await expect.poll(() => app.stats().spool.pending).toBeGreaterThanOrEqual(8);
    expect(app.stats().link.connected).toBe(false);

    await p.startIngest();
    await expect.poll(async () => (await p.events()).length, { timeout: 60_000 }).toBe(41);
    const events = await p.events();
    expect(new Set(events.map((e) => e.id)).size).toBe(41);
    expect(events.slice(1).map((e) => e.process_exec?.process?.args[1])).toEqual(
      away.map((e) => e.process_exec?.process?.args?.[1]),
    );
    await expect.poll(() => app.stats().spool.pending).toBe(0);
  });

  it('drops low-priority events first when its queue overflows, and tells ingest how many it dropped', async () => {
    const p = await platform();
    const sensor = manualSensor();
    const { app } = await defender(p, [sensor], { MAMORI_DEFENDER_QUEUE_EVENTS: '10' });
    // More than the queue holds before its next flush: 8 high-priority, then 12 low ones.
    for (let i = 0; i < 8; i++) sensor.emit(exec('high'), 'high');
    for (let i = 0; i < 12; i++) sensor.emit(exec('low'), 'low');
    expect(app.stats().dropped).toEqual({ low: 10, high: 0 });
    await expect.poll(async () => (await p.events()).length, { timeout: 20_000 }).toBe(10);
    const names = (await p.events()).map((e) => e.process_exec?.process?.name);
    expect(names.filter((name) => name === 'high')).toHaveLength(8);
    await expect
      .poll(() => p.metrics(), { timeout: 20_000 })
      .toMatch(/mamori_ingest_agent_dropped_events_total\{priority="low"\} 10/);
  });

  it('sends what its spool kept when it was stopped before ingest came back, after a restart', async () => {
    const p = await platform();
    await p.stopIngest();
    const sensor = manualSensor();
    const first = await defender(p, [sensor]);
    for (let i = 0; i < 10; i++) sensor.emit(exec('offline'));
    await first.app.stop();
    expect(first.app.stats().spool.pending).toBeGreaterThan(0);

    await p.startIngest();
    await defender(p, [manualSensor()]);
    await expect.poll(async () => (await p.events()).length, { timeout: 60_000 }).toBe(10);
  });

  it('is refused while another agent with its id is connected, and delivers its events once that one is gone', async () => {
    const p = await platform();
    const firstSensor = manualSensor();
    const first = await defender(p, [firstSensor]);
    firstSensor.emit(exec('first'));
    await expect.poll(async () => (await p.events()).length, { timeout: 20_000 }).toBe(1);

    // A second agent configured with the same id, on a spool of its own.
    const secondSensor = manualSensor();
    const second = await defender(p, [secondSensor], {
      MAMORI_DEFENDER_SPOOL_DIR: join(p.dir, 'other-spool'),
    });
    await expect
      .poll(() => second.lines.some((l) => /another agent with the same id/.test(l.msg)), {
        timeout: 20_000,
      })
      .toBe(true);
    // Both go on numbering batches: with both connected, one's batch 2 would have been taken
    // for the other's and dropped.
    firstSensor.emit(exec('first'));
    for (let i = 0; i < 5; i++) secondSensor.emit(exec('second'));
    await expect.poll(async () => (await p.events()).length, { timeout: 20_000 }).toBe(2);
    expect(second.app.stats().link.connected).toBe(false);
    expect(second.app.stats().spool.pending).toBeGreaterThan(0);

    await first.app.stop();
    await expect.poll(async () => (await p.events()).length, { timeout: 30_000 }).toBe(7);
    const names = (await p.events()).map((e) => e.process_exec?.process?.name);
    expect(names).toEqual(['first', 'first', ...Array<string>(5).fill('second')]);
    await expect.poll(() => second.app.stats().spool.pending).toBe(0);
  });

  it('takes a policy set larger than gRPC’s default 4 MiB message', async () => {
    const p = await platform();
    await p.writePolicy({
      id: 'large',
      name: 'Large',
      mode: 'POLICY_MODE_PREVENT',
      denied_processes: ['xmrig'],
      // Rule text with a 6 MiB comment: as large as a few policies with OpenAPI documents.
      rules: `# ${'x'.repeat(6 << 20)}\n`,
    });
    const { app, lines } = await defender(p, [manualSensor()]);
    await expect.poll(() => app.stats().enforcing, { timeout: 20_000 }).toBeGreaterThan(0);
    expect(app.stats().link.sessions).toBe(1);
    expect(lines.some((l) => l.msg === 'stream to ingest failed')).toBe(false);
  });

  it('kills a process that a prevent policy denies, on its own, and reports the kill as an event', async () => {
    const p = await platform();
    await p.writePolicy({
      id: 'no-miners',
      name: 'No miners',
      mode: 'POLICY_MODE_PREVENT',
      denied_processes: ['xmrig'],
    });
    const sensor = manualSensor();
    const { app } = await defender(p, [sensor]);
    await expect.poll(() => app.stats().enforcing, { timeout: 20_000 }).toBeGreaterThan(0);

    const miner = longLived('xmrig');
    const innocent = longLived('sleep');
    const exited = once(miner, 'exit');
    // What the process sensor reports for them: the real processes, read from /proc.
    const read = async (pid: number) => {
      await expect.poll(async () => (await readProcess(pid))?.args?.[0]).toBeDefined();
      return (await readProcess(pid))!;
    };
    const minerProcess = await read(miner.pid!);
    sensor.emit({ process_exec: { process: minerProcess } });
    sensor.emit({ process_exec: { process: await read(innocent.pid!) } });

    const [, signal] = (await exited) as [number | null, string | null];
    expect(signal).toBe('SIGKILL');
    expect(innocent.exitCode).toBeNull();
    await expect
      .poll(async () => (await p.events()).filter((e) => e.payload === 'enforcement'), {
        timeout: 20_000,
      })
      .toEqual([
        expect.objectContaining({
          enforcement: expect.objectContaining({
            action: 'kill_process',
            ok: true,
            policy_id: 'no-miners',
            rule_id: 'policy:no-miners:denied-processes',
            process: expect.objectContaining({ pid: miner.pid }),
          }),
        }),
      ]);
  });
});
