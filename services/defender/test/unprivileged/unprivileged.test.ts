import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SENSORS = fileURLToPath(new URL('../../src/sensors/', import.meta.url));

/** Starts sensors in a child process that runs as `nobody` and returns what they report. */
function statusAsNobody(): Promise<{ sensor: string; mode: string; limitations: string[] }[]> {
  const script = `
    import { createProcessSensor } from '${SENSORS}process/index.ts';
    import { createNetworkSensor } from '${SENSORS}network/network-sensor.ts';
    const logger = { info() {}, warn() {}, error() {}, debug() {}, child() { return logger; } };
    // Root loads the code (the checkout may sit in a directory nobody cannot read), then the
    // process becomes nobody: what the sensors see from here on is what nobody sees.
    process.setgid(65534);
    process.setuid(65534);
    const context = { emit: () => true, logger };
    const out = [];
    for (const sensor of [createProcessSensor(), createNetworkSensor()]) {
      out.push(await sensor.start(context));
      await sensor.stop();
    }
    process.stdout.write(JSON.stringify(out));
  `;
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--conditions=@mamori/source', '--import', 'tsx', '--input-type=module', '-e', script],
      {
        uid: 65534,
        gid: 65534,
        env: { ...process.env, HOME: '/tmp' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('exit', (code) => {
      if (code === 0) resolve(JSON.parse(stdout) as never);
      else reject(new Error(`exit ${code}: ${stderr}`));
    });
  });
}

describe.runIf(process.getuid?.() === 0)('sensors without privileges', () => {
  it('run with less and say what they cannot see', async () => {
    const [processes, network] = await statusAsNobody();
    // No CAP_NET_ADMIN: no process events connector, so /proc is polled, and that is said.
    expect(processes!.mode).toMatch(/^procfs-poll/);
    expect(processes!.limitations.join(' ')).toMatch(/short-lived|shorter than/i);
    expect(processes!.limitations).toContain('no CAP_NET_ADMIN for the process events connector');
    expect(network!.limitations.join(' ')).toMatch(/process the agent cannot read/);
  }, 60_000);
});
