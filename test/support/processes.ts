import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface MamoriProcess {
  child: ChildProcess;
  port: number;
  /** The API's port, for `start`. */
  apiPort?: number;
  /** Lines the process wrote to stdout and stderr, for failure messages. */
  output: string[];
}

/**
 * Runs `mamori <command>` from the TypeScript sources in a child process (as a user would,
 * without a build) and resolves once it is up: for `start` when it logs that mamori is
 * running, otherwise when ingest listens.
 */
export function spawnMamori(command: string, env: Record<string, string>): Promise<MamoriProcess> {
  const child = spawn(
    process.execPath,
    [
      '--conditions=@mamori/source',
      '--import',
      'tsx',
      `${REPO_ROOT}services/cli/src/main.ts`,
      command,
    ],
    {
      cwd: REPO_ROOT,
      env: { ...process.env, MAMORI_INGEST_PORT: '0', MAMORI_API_PORT: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const output: string[] = [];
  createInterface({ input: child.stderr }).on('line', (line) => output.push(line));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`mamori ${command} did not start:\n${output.join('\n')}`)),
      60_000,
    );
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`mamori ${command} exited (${code ?? signal}):\n${output.join('\n')}`));
    });
    createInterface({ input: child.stdout }).on('line', (line) => {
      output.push(line);
      try {
        const entry = JSON.parse(line) as {
          msg?: string;
          port?: number;
          ingestPort?: number;
          apiPort?: number;
        };
        // `start` is up once every service is; a single service once ingest listens.
        const port =
          command === 'start'
            ? entry.msg === 'mamori is running' && entry.ingestPort
            : entry.msg === 'ingest listening' && entry.port;
        if (port) {
          clearTimeout(timer);
          child.removeAllListeners('exit');
          resolve({ child, port, output, ...(entry.apiPort ? { apiPort: entry.apiPort } : {}) });
        }
      } catch {
        // not a log line
      }
    });
  });
}

/** Sends SIGKILL and waits until the process is gone. */
export function killHard(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}
