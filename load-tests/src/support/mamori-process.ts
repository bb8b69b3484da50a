import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { REPO_ROOT } from './paths.js';

export interface MamoriProcess<Ready> {
  /** What the process logged when it became ready. */
  ready: Ready;
  pid: number;
  /** CPU time the ingest process used so far, in ms (user + system), from /proc. */
  cpuMs(): number;
  stop(): Promise<void>;
}

function readCpuMs(pid: number): number {
  try {
    // /proc/<pid>/stat fields 14 and 15 are utime and stime in clock ticks (100 Hz on Linux).
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0;
  }
}

export interface IngestProcess extends MamoriProcess<unknown> {
  address: string;
}

/**
 * Starts ingest as its own process (`mamori ingest`), as it runs in production, and resolves
 * once it logs that it listens. `nodeArgs` go to node itself (e.g. --cpu-prof).
 */
export async function startIngestProcess(
  env: Record<string, string>,
  nodeArgs: readonly string[] = [],
): Promise<IngestProcess> {
  const started = await startMamoriProcess({
    command: 'ingest',
    env: { MAMORI_INGEST_PORT: '0', MAMORI_INGEST_OPS_PORT: '0', ...env },
    nodeArgs,
    ready: (entry) =>
      entry['msg'] === 'ingest listening' && typeof entry['port'] === 'number'
        ? entry['port']
        : undefined,
  });
  return { ...started, address: `127.0.0.1:${started.ready}` };
}

export interface StartMamoriOptions<Ready> {
  /** The `mamori` command: ingest, start, … */
  command: string;
  env: Record<string, string>;
  /** Arguments for node itself (e.g. --cpu-prof). */
  nodeArgs?: readonly string[];
  /** Picks what matters out of the log line that says the process is ready. */
  ready: (entry: Record<string, unknown>) => Ready | undefined;
}

/**
 * Starts `mamori <command>` from the build (`services/cli/dist`) as its own process and
 * resolves once one of its log lines satisfies `ready`.
 */
export function startMamoriProcess<Ready>(
  options: StartMamoriOptions<Ready>,
): Promise<MamoriProcess<Ready>> {
  const child: ChildProcess = spawn(
    process.execPath,
    [...(options.nodeArgs ?? []), join(REPO_ROOT, 'services/cli/dist/main.js'), options.command],
    {
      env: { ...process.env, MAMORI_LOG_LEVEL: 'info', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const stderr: string[] = [];
  child.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`mamori ${options.command} did not start within 60 s: ${stderr.join('')}`));
    }, 60_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`mamori ${options.command} exited with ${code}: ${stderr.join('')}`));
    });
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return;
      }
      const ready = options.ready(entry);
      if (ready === undefined) return;
      clearTimeout(timer);
      child.removeAllListeners('exit');
      lines.removeAllListeners('line');
      resolve({
        ready,
        pid: child.pid!,
        cpuMs: () => readCpuMs(child.pid!),
        stop: () =>
          new Promise<void>((done) => {
            if (child.exitCode !== null) return done();
            const kill = setTimeout(() => child.kill('SIGKILL'), 15_000);
            child.once('exit', () => {
              clearTimeout(kill);
              done();
            });
            child.kill('SIGTERM');
          }),
      });
    });
  });
}
