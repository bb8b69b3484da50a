import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { graphql } from './support/graphql.js';
import { killHard, spawnMamori, terminate, type MamoriProcess } from './support/processes.js';

const TENANT = 'city-a';
const AGENT = 'node-1';

interface Setup {
  dir: string;
  agentToken: string;
  adminToken: string;
  /** `mamori start` on `dir`; on `port` when given (a restart keeps the agent's address). */
  startPlatform(port?: number): Promise<MamoriProcess>;
  startDefender(ingestPort: number, env?: Record<string, string>): Promise<MamoriProcess>;
}

function setup(): Setup {
  const dir = mkdtempSync(join(tmpdir(), 'mamori-defender-e2e-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  const token = () => randomBytes(24).toString('base64url');
  const agentToken = token();
  const adminToken = token();
  return {
    dir,
    agentToken,
    adminToken,
    async startPlatform(port) {
      const platform = await spawnMamori('start', {
        MAMORI_DATA_DIR: join(dir, 'platform'),
        MAMORI_INGEST_TOKENS: JSON.stringify([
          { token: agentToken, tenant: TENANT, agentId: AGENT },
        ]),
        MAMORI_API_TOKENS: JSON.stringify([
          { token: adminToken, tenant: TENANT, role: 'admin', name: 'admin' },
        ]),
        ...(port ? { MAMORI_INGEST_PORT: String(port) } : {}),
      });
      onTestFinished(() => killHard(platform.child));
      return platform;
    },
    async startDefender(ingestPort, env = {}) {
      const defender = await spawnMamori('defender', {
        MAMORI_DATA_DIR: join(dir, 'node'),
        MAMORI_DEFENDER_INGEST: `127.0.0.1:${ingestPort}`,
        MAMORI_DEFENDER_TOKEN: agentToken,
        MAMORI_DEFENDER_AGENT_ID: AGENT,
        MAMORI_DEFENDER_RECONNECT_MAX_MS: '2000',
        ...env,
      });
      onTestFinished(() => killHard(defender.child));
      return defender;
    },
  };
}

interface EventNode {
  id: string;
  kind: string;
  pid: number;
  processName: string;
  commandLine: string;
  path: string;
  payload: Record<string, unknown>;
}

const EVENTS = `query ($filter: EventFilter) { events(first: 500, filter: $filter) { edges { node {
  id kind pid processName commandLine path payload } } } }`;

async function events(apiPort: number, token: string, filter: Record<string, unknown>) {
  const data = await graphql<{ events: { edges: { node: EventNode }[] } }>(apiPort, token, EVENTS, {
    filter,
  });
  return data.events.edges.map((e) => e.node);
}

interface AlertNode {
  ruleId: string;
  title: string;
}

async function alerts(apiPort: number, token: string): Promise<AlertNode[]> {
  const data = await graphql<{ alerts: { edges: { node: AlertNode }[] } }>(
    apiPort,
    token,
    '{ alerts(first: 100) { edges { node { ruleId title } } } }',
  );
  return data.alerts.edges.map((e) => e.node);
}

/** A copy of a harmless program under another name, so that comm, exe and argv[0] say it. */
function program(dir: string, from: string, name: string): string {
  const bin = join(dir, 'bin');
  mkdirSync(bin, { recursive: true });
  const exe = join(bin, name);
  copyFileSync(from, exe);
  chmodSync(exe, 0o755);
  return exe;
}

function run(exe: string, args: string[]): ChildProcess {
  const child = spawn(exe, args, { stdio: 'ignore' });
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return child;
}

describe('mamori defender', () => {
  it('sees a miner start, a write to a protected file and a local connection; a prevent policy kills the miner and the kill is reported', async () => {
    const s = setup();
    const platform = await s.startPlatform();
    const watched = join(s.dir, 'watched');
    mkdirSync(watched);
    await s.startDefender(platform.port, {
      MAMORI_DEFENDER_SENSITIVE_PATHS: watched,
      MAMORI_DEFENDER_SENSORS: 'process,network,file',
    });
    const api = platform.apiPort!;
    const admin = s.adminToken;
    const upsert = (input: Record<string, unknown>) =>
      graphql(
        api,
        admin,
        'mutation ($input: PolicyInput!) { upsertPolicy(input: $input) { id } }',
        {
          input,
        },
      );
    await upsert({
      id: 'watched-files',
      name: 'Watched files',
      mode: 'DETECT',
      protectedPaths: [watched],
    });

    // A harmless program named xmrig with a mining pool on its command line: tail keeps
    // running (the "file" it cannot open is the pool's address).
    const xmrig = program(s.dir, '/usr/bin/tail', 'xmrig');
    const pool = 'stratum+tcp://pool.example.net:3333';
    const miner = run(xmrig, ['-f', '/dev/null', pool]);
    await expect
      .poll(async () => (await alerts(api, admin)).map((a) => a.ruleId), { timeout: 60_000 })
      .toContain('mamori:Crypto miner started');
    miner.kill('SIGKILL');
    // Its exec carries the SHA-256 of the program, as an IOC list would name it.
    const minerHash = async () => {
      const [exec] = await events(api, admin, { kinds: ['PROCESS_EXEC'], processName: 'xmrig' });
      return (exec?.payload as { process?: { exe_hash?: string } } | undefined)?.process?.exe_hash;
    };
    await expect
      .poll(minerHash, { timeout: 30_000 })
      .toBe(`sha256:${createHash('sha256').update(readFileSync(xmrig)).digest('hex')}`);

    // A write to a protected file.
    writeFileSync(join(watched, 'secrets.conf'), 'token=1\n');
    await expect
      .poll(async () => (await alerts(api, admin)).map((a) => a.ruleId), { timeout: 60_000 })
      .toContain('policy:watched-files:protected-paths');

    // A connection to a local listening port: the accept (this process) and the connect (a
    // child process) both show up, each with its process.
    const server = createServer((socket) => socket.on('error', () => undefined));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    onTestFinished(() => {
      server.close();
    });
    const { port } = server.address() as { port: number };
    const client = run(process.execPath, [
      '-e',
      `const s = require('net').connect(${port}, '127.0.0.1'); s.on('error', () => {}); setTimeout(() => s.end(), 3000);`,
    ]);
    await expect
      .poll(
        async () => {
          const seen = await events(api, admin, { kinds: ['NETWORK_CONNECT', 'NETWORK_ACCEPT'] });
          return seen
            .filter((e) => JSON.stringify(e.payload).includes(String(port)))
            .map((e) => [e.kind, e.pid]);
        },
        { timeout: 60_000 },
      )
      .toEqual(
        expect.arrayContaining([
          ['NETWORK_CONNECT', client.pid],
          ['NETWORK_ACCEPT', process.pid],
        ]),
      );

    // Prevent: the next miner is killed on the node, and the kill is reported.
    await upsert({
      id: 'no-miners',
      name: 'No miners',
      mode: 'PREVENT',
      deniedProcesses: ['xmrig'],
    });
    let killed: ChildProcess | undefined;
    const deadline = Date.now() + 60_000;
    while (killed === undefined && Date.now() < deadline) {
      // Until the policy has reached the defender, a miner lives: each try waits a while.
      const next = run(xmrig, ['-f', '/dev/null', pool]);
      const ended = await Promise.race([
        once(next, 'exit').then(([, signal]) => signal as string | null),
        new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 3000)),
      ]);
      if (ended === 'SIGKILL') killed = next;
      else next.kill('SIGKILL');
    }
    expect(killed).toBeDefined();
    await expect
      .poll(
        async () =>
          (await events(api, admin, { kinds: ['ENFORCEMENT'] })).map((e) => ({
            pid: e.pid,
            action: (e.payload as { action?: string }).action,
            ok: (e.payload as { ok?: boolean }).ok,
          })),
        { timeout: 60_000 },
      )
      .toContainEqual({ pid: killed!.pid, action: 'kill_process', ok: true });
  }, 300_000);

  it('delivers every event of processes that ran while the platform was stopped for 30 s, none twice', async () => {
    const s = setup();
    const platform = await s.startPlatform();
    const defender = await s.startDefender(platform.port, { MAMORI_DEFENDER_SENSORS: 'process' });
    const marker = `off-${randomBytes(4).toString('hex')}`; // comm keeps 15 characters
    const sleeper = program(s.dir, '/bin/sleep', marker);

    expect(await terminate(platform.child)).toBe(0);
    // 30 s without the platform; a process every second, each living 300 ms.
    const started: number[] = [];
    for (let i = 0; i < 30; i++) {
      const child = run(sleeper, ['0.3']);
      started.push(child.pid!);
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    const back = await s.startPlatform(platform.port);
    await expect
      .poll(
        async () =>
          (
            await events(back.apiPort!, s.adminToken, {
              kinds: ['PROCESS_EXEC'],
              processName: marker,
            })
          ).length,
        { timeout: 120_000, interval: 1000 },
      )
      .toBe(30);
    const seen = await events(back.apiPort!, s.adminToken, {
      kinds: ['PROCESS_EXEC'],
      processName: marker,
    });
    expect(new Set(seen.map((e) => e.id)).size).toBe(30);
    expect(seen.map((e) => e.pid).sort()).toEqual([...started].sort());
    expect(await terminate(defender.child)).toBe(0);
  }, 300_000);
});
