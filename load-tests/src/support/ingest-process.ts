import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { REPO_ROOT } from './paths.js';

export interface IngestProcess {
  address: string;
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

/**
 * Starts ingest as its own process (`mamori ingest`), as it runs in production, and resolves
 * once it logs that it listens. `nodeArgs` go to node itself (e.g. --cpu-prof). `nodeArgs` go to node itself (e.g. --cpu-prof).
 */
export function startIngestProcess(
  env: Record<string, string>,
  nodeArgs: readonly string[] = [],
): Promise<IngestProcess> {
  const child: ChildProcess = spawn(
    process.execPath,
    [...nodeArgs, join(REPO_ROOT, 'services/cli/dist/main.js'), 'ingest'],
    {
      env: { ...process.env, MAMORI_INGEST_PORT: '0', MAMORI_LOG_LEVEL: 'info', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const stderr: string[] = [];
  child.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`ingest did not start within 60 s: ${stderr.join('')}`));
    }, 60_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`ingest exited with ${code}: ${stderr.join('')}`));
    });
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      let entry: { msg?: string; port?: number; host?: string };
      try {
        entry = JSON.parse(line) as typeof entry;
      } catch {
        return;
      }
      if (entry.msg !== 'ingest listening' || !entry.port) return;
      clearTimeout(timer);
      child.removeAllListeners('exit');
      resolve({
        address: `127.0.0.1:${entry.port}`,
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
