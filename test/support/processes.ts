import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface MamoriProcess {
  child: ChildProcess;
  /**
   * The port it serves on: ingest's for `start` and `ingest`, the API's for `api`; 0 for
   * `store`, which takes no requests.
   */
  port: number;
  /** The API's port, for `start`. */
  apiPort?: number;
  /** Lines the process wrote to stdout and stderr, for failure messages. */
  output: string[];
}

interface LogEntry {
  msg?: string;
  port?: number;
  ingestPort?: number;
  apiPort?: number;
  listen?: string[];
}

/** The log line each command writes once it is up, and the port that line names. */
const READY: Record<string, { msg: string; port(entry: LogEntry): number | undefined }> = {
  start: { msg: 'mamori is running', port: (entry) => entry.ingestPort },
  ingest: { msg: 'ingest listening', port: (entry) => entry.port },
  store: { msg: 'store consuming', port: () => 0 },
  api: { msg: 'api listening', port: (entry) => entry.port },
  defender: { msg: 'defender running', port: () => 0 },
  'defender waas': {
    msg: 'waas proxy running in a defender agent',
    port: (entry) => Number(entry.listen?.[0]?.split(':').at(-1) ?? 0),
  },
};

/**
 * Runs `mamori <command>` from the TypeScript sources in a child process (as a user would,
 * without a build) and resolves once it is up: for `start` when it logs that mamori is
 * running, for `ingest` and `api` when they listen, for `store` when it consumes, for
 * `defender waas` (its port: the proxy's) when the proxy listens.
 */
export function spawnMamori(
  command: string,
  env: Record<string, string>,
  args: readonly string[] = [],
): Promise<MamoriProcess> {
  const child = spawn(
    process.execPath,
    [
      '--conditions=@mamori/source',
      '--import',
      'tsx',
      `${REPO_ROOT}services/cli/src/main.ts`,
      ...command.split(' '),
      ...args,
    ],
    {
      cwd: REPO_ROOT,
      // Every port ephemeral, so that processes of test files running side by side never meet.
      env: {
        ...process.env,
        MAMORI_INGEST_PORT: '0',
        MAMORI_INGEST_OPS_PORT: '0',
        MAMORI_STORE_OPS_PORT: '0',
        MAMORI_API_PORT: '0',
        ...env,
      },
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
        const entry = JSON.parse(line) as LogEntry;
        const ready = READY[command];
        const port = ready && entry.msg === ready.msg ? ready.port(entry) : undefined;
        if (port !== undefined) {
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

/** Sends SIGTERM and resolves with the exit code (null when a signal ended the process). */
export function terminate(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.kill('SIGTERM');
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
