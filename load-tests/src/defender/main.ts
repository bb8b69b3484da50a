/**
 * The defender on this machine: `mamori start` and `mamori defender` as separate processes, the
 * defender's CPU and memory idle and under 200 process starts a second, how many of those starts
 * come back through GraphQL, how long a miner's alert takes to be returned, and how long a
 * prevent policy takes to kill a miner. Prints one JSON object on its last line.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { positive, runMain } from '../support/args.js';
import { summarizeProfiles } from '../support/cpu-profile.js';
import { graphqlClient, type Graphql } from '../support/graphql.js';
import { startMamoriProcess, type MamoriProcess } from '../support/mamori-process.js';
import { summarize } from '../support/stats.js';
import { runGenerator } from './generator.js';
import { execPids, minerAlertsAndExecs, upsertPolicy } from './graphql.js';
import { childrenOf, measureUsage, memoryOf, type Usage } from './proc-sample.js';

const USAGE = `npm run bench:defender -- [options]

Starts the platform (\`mamori start\`) and, as a process of its own, the defender (\`mamori
defender\`, from the build, so that the process sensor runs its proc-events helper) connected to
it, then:

  1. idle: measures the defender's CPU and memory for 10 s while the benchmark starts nothing;
  2. load: starts --rate processes a second for --seconds, each a copy of /bin/sleep under a
     name of this run that lives --life-ms, and counts how many of their process starts the
     API returns (seenRatio); measures the defender's CPU and peak memory meanwhile;
  3. alerts: --samples times starts a harmless program named xmrig with a mining pool on its
     command line and polls GraphQL every 50 ms until the alert "Crypto miner started" of that
     very process (its exec event's id) is returned;
  4. kills: upserts a prevent policy denying xmrig, waits until it is in force, then --samples
     times starts an xmrig and times it until it is killed (SIGKILL).

  --rate N        processes started per second during the load (default 200)
  --seconds S     duration of the load (default 30)
  --life-ms MS    how long each of those processes lives (default 250)
  --samples N     miners started for the alert and for the kill latency (default 20)
  --sensors LIST  the defender's sensors, MAMORI_DEFENDER_SENSORS (default process,network,file)
  --profile DIR   write a V8 CPU profile of the defender's main thread (the whole run) to DIR
                  and add the functions with most self time to the report

CPU is utime + stime from /proc of the defender and its helper, in percent of one core; memory
is VmRSS / VmHWM of the same processes. Other processes of the machine are seen by the defender
too: check the load average (in the report) when comparing runs.
`;

const TENANT = 'bench-defender';
const AGENT = 'bench-node';
// How long the idle phase is measured, and how long the defender gets before it (its start:
// seeding what runs, JIT warm-up, connecting), in ms.
const IDLE_MS = 10_000;
const SETTLE_MS = 3_000;
// How often the alert and kill phases poll the API (ms): well under the latencies measured.
const POLL_MS = 50;
// A miner whose alert is not back after this long is reported missing (ms).
const ALERT_TIMEOUT_MS = 30_000;
// A miner not killed within this long is reported missing (ms); the bar is 1 s.
const KILL_TIMEOUT_MS = 5_000;
// How long the prevent policy gets to reach the defender before the run gives up (ms).
const POLICY_TIMEOUT_MS = 60_000;
// After the load: how long seen events may stop growing before the count is final, and how
// long to wait at most (ms).
const SETTLED_AFTER_MS = 5_000;
const COUNT_TIMEOUT_MS = 120_000;
const POOL = 'stratum+tcp://pool.example.net:3333';

interface DefenderReady {
  sensors: unknown;
  unavailable: unknown;
  enforce: unknown;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rate: { type: 'string', default: '200' },
      seconds: { type: 'string', default: '30' },
      'life-ms': { type: 'string', default: '250' },
      samples: { type: 'string', default: '20' },
      sensors: { type: 'string', default: 'process,network,file' },
      profile: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const rate = positive('rate', values.rate);
  const seconds = positive('seconds', values.seconds);
  const lifeMs = positive('life-ms', values['life-ms']);
  const samples = positive('samples', values.samples);
  const sensors = values.sensors;

  const cleanups: (() => Promise<void> | void)[] = [];
  const report: Record<string, unknown> = {
    benchmark: 'defender',
    rate,
    seconds,
    lifeMs,
    samples,
    loadAverageBefore: loadavg().map((n) => Math.round(n * 100) / 100),
  };
  try {
    const dir = mkdtempSync(join(tmpdir(), 'mamori-bench-defender-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const agentToken = randomBytes(24).toString('base64url');
    const adminToken = randomBytes(24).toString('base64url');

    const platform = await startMamoriProcess({
      command: 'start',
      env: {
        MAMORI_DATA_DIR: join(dir, 'platform'),
        MAMORI_INGEST_PORT: '0',
        MAMORI_API_PORT: '0',
        MAMORI_INGEST_TOKENS: JSON.stringify([
          { token: agentToken, tenant: TENANT, agentId: AGENT },
        ]),
        MAMORI_API_TOKENS: JSON.stringify([
          { token: adminToken, tenant: TENANT, role: 'admin', name: 'bench' },
        ]),
      },
      ready: (entry) =>
        entry['msg'] === 'mamori is running'
          ? { ingestPort: Number(entry['ingestPort']), apiPort: Number(entry['apiPort']) }
          : undefined,
    });
    cleanups.push(stopOnce(platform));
    const defender = await startMamoriProcess<DefenderReady>({
      command: 'defender',
      nodeArgs: values.profile ? ['--cpu-prof', `--cpu-prof-dir=${values.profile}`] : [],
      env: {
        MAMORI_DATA_DIR: join(dir, 'node'),
        MAMORI_DEFENDER_INGEST: `127.0.0.1:${platform.ready.ingestPort}`,
        MAMORI_DEFENDER_TOKEN: agentToken,
        MAMORI_DEFENDER_AGENT_ID: AGENT,
        MAMORI_DEFENDER_SENSORS: sensors,
      },
      ready: (entry) =>
        entry['msg'] === 'defender running'
          ? {
              sensors: entry['sensors'],
              unavailable: entry['unavailable'],
              enforce: entry['enforce'],
            }
          : undefined,
    });
    cleanups.push(stopOnce(defender));
    report['sensors'] = defender.ready.sensors;
    report['unavailable'] = defender.ready.unavailable;
    report['enforce'] = defender.ready.enforce;
    const graphql = graphqlClient(`http://127.0.0.1:${platform.ready.apiPort}/graphql`, adminToken);
    // The defender and its helpers (proc-events), asked at each sample.
    const defenderPids = (): number[] => [defender.pid, ...childrenOf(defender.pid)];
    report['defenderProcesses'] = defenderPids().length;

    // Programs of this run, under names of their own: comm (15 characters at most) says them.
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    const marker = `mbd-${randomBytes(4).toString('hex')}`;
    const sleeper = copyProgram('/bin/sleep', join(bin, marker));
    const xmrig = copyProgram('/usr/bin/tail', join(bin, 'xmrig'));
    const children = new Set<ChildProcess>();
    cleanups.push(() => {
      for (const child of children) {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }
    });

    // 1. Idle.
    await sleep(SETTLE_MS);
    const idleUsage = measureUsage(defenderPids);
    // The same, split: the node process alone (the helpers are the rest).
    const idleNodeUsage = measureUsage(() => [defender.pid]);
    await sleep(IDLE_MS);
    const idle = idleUsage.stop();
    const idleNode = idleNodeUsage.stop();
    report['cpuPercentIdle'] = idle.cpuPercent;
    report['cpuPercentIdleHelpers'] = Math.round((idle.cpuPercent - idleNode.cpuPercent) * 10) / 10;
    report['rssMbIdle'] = idle.rssMb;

    // 2. Load.
    const loadUsage = measureUsage(defenderPids);
    const loadNodeUsage = measureUsage(() => [defender.pid]);
    const generated = await runGenerator({
      exe: sleeper,
      args: [String(lifeMs / 1000)],
      rate,
      seconds,
    });
    const load: Usage = loadUsage.stop();
    const loadNode = loadNodeUsage.stop();
    const peak = peakMb(defenderPids());
    const started = new Set(generated.pids);
    const seen = await countSeen(graphql, marker, started);
    Object.assign(report, {
      started: generated.pids.length,
      achievedRate: generated.achievedRate,
      spawnErrors: generated.errors,
      lateTicks: generated.lateTicks,
      generatorCpuPercent: generated.cpuPercent,
      // Pids the kernel gave twice within the run (pid_max is small on some machines).
      pidsReused: generated.pids.length - started.size,
      seen: seen.count,
      seenRatio: started.size > 0 ? Math.round((seen.count / started.size) * 10_000) / 10_000 : 0,
      seenSettledMs: seen.ms,
      cpuPercentLoad: load.cpuPercent,
      cpuPercentLoadHelpers: Math.round((load.cpuPercent - loadNode.cpuPercent) * 10) / 10,
      rssMb: Math.round(Math.max(peak, load.maxRssMb) * 10) / 10,
      rssMbEndOfLoad: load.rssMb,
    });

    if (sensors.split(',').some((s) => s.trim() === 'process')) {
      Object.assign(report, await alertLatency(graphql, children, xmrig, samples));
      Object.assign(report, await killLatency(graphql, children, xmrig, samples));
    } else {
      report['alertVisibleMs'] = report['killMs'] = { skipped: 'without the process sensor' };
    }
    report['loadAverageAfter'] = loadavg().map((n) => Math.round(n * 100) / 100);
    report['node'] = process.version;
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup();
  }
  // The defender writes its profile when it exits, that is during cleanup.
  if (values.profile) report['defenderProfiles'] = summarizeProfiles(values.profile);
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

/** A copy of `from` at `to`, executable: comm, exe and argv[0] name the copy. */
function copyProgram(from: string, to: string): string {
  copyFileSync(from, to);
  chmodSync(to, 0o755);
  return to;
}

function run(children: Set<ChildProcess>, exe: string, args: string[]): ChildProcess {
  const child = spawn(exe, args, { stdio: 'ignore' });
  children.add(child);
  child.once('exit', () => children.delete(child));
  child.once('error', () => children.delete(child));
  return child;
}

/** Stops a mamori process once (a second stop would wait for an 'exit' that came already). */
function stopOnce<T>(child: MamoriProcess<T>): () => Promise<void> {
  let stopped = false;
  return async () => {
    if (stopped) return;
    stopped = true;
    await child.stop();
  };
}

/** Sum of VmHWM (peak resident memory) of the processes, in MiB. */
function peakMb(pids: readonly number[]): number {
  return pids.reduce((sum, pid) => sum + (memoryOf(pid)?.peakMb ?? 0), 0);
}

/**
 * Polls the API for the exec events of `marker` until the count of started pids among them
 * stops growing (or all are there): the count, and how long after the load it settled.
 */
async function countSeen(
  graphql: Graphql,
  marker: string,
  started: ReadonlySet<number>,
): Promise<{ count: number; ms: number }> {
  const began = performance.now();
  let count = -1;
  let grewAt = began;
  while (performance.now() - began < COUNT_TIMEOUT_MS) {
    const pids = new Set((await execPids(graphql, marker)).filter((pid) => started.has(pid)));
    if (pids.size > count) {
      count = pids.size;
      grewAt = performance.now();
    }
    if (count >= started.size || performance.now() - grewAt >= SETTLED_AFTER_MS) break;
    await sleep(1000);
  }
  return { count: Math.max(count, 0), ms: Math.round(grewAt - began) };
}

/**
 * Polls every 50 ms until the miner rule's alert of the exec event of `pid` is returned: ms
 * from `startedAt` until the poll that returned it; undefined after the timeout.
 */
async function alertOf(
  graphql: Graphql,
  pid: number,
  startedAt: number,
): Promise<number | undefined> {
  // The event id of the miner's exec, once an exec event of its pid is returned.
  let eventId: string | undefined;
  // Alerts of the rule first returned at (ms), by event id: an alert may come back before its
  // event does, and is timed from when it did.
  const alertSeenAt = new Map<string, number>();
  while (performance.now() - startedAt < ALERT_TIMEOUT_MS) {
    const polledAt = performance.now();
    const { alertEventIds, execs } = await minerAlertsAndExecs(graphql, 'xmrig');
    for (const id of alertEventIds) if (!alertSeenAt.has(id)) alertSeenAt.set(id, polledAt);
    if (eventId === undefined) {
      for (const [id, execPid] of execs) if (execPid === pid) eventId = id;
    }
    const at = eventId === undefined ? undefined : alertSeenAt.get(eventId);
    if (at !== undefined) return at - startedAt;
    await sleep(POLL_MS);
  }
  return undefined;
}

/** Ms from spawning a miner until it exits by SIGKILL; undefined if it lives on. */
async function timeKill(children: Set<ChildProcess>, exe: string): Promise<number | undefined> {
  const startedAt = performance.now();
  const miner = run(children, exe, ['-f', '/dev/null', POOL]);
  const ended = await new Promise<{ signal: string | null; at: number } | undefined>((resolve) => {
    const timer = setTimeout(() => resolve(undefined), KILL_TIMEOUT_MS);
    miner.once('exit', (_code, signal) => {
      clearTimeout(timer);
      resolve({ signal, at: performance.now() });
    });
  });
  if (ended?.signal === 'SIGKILL') return ended.at - startedAt;
  miner.kill('SIGKILL');
  return undefined;
}

/** Step 3: a miner's start until GraphQL returns its alert, `samples` times. */
async function alertLatency(
  graphql: Graphql,
  children: Set<ChildProcess>,
  xmrig: string,
  samples: number,
): Promise<Record<string, unknown>> {
  const alertMs: number[] = [];
  let alertsMissing = 0;
  for (let i = 0; i < samples; i++) {
    const miner = run(children, xmrig, ['-f', '/dev/null', POOL]);
    const startedAt = performance.now();
    const visible = await alertOf(graphql, miner.pid!, startedAt);
    if (visible === undefined) alertsMissing++;
    else alertMs.push(visible);
    miner.kill('SIGKILL');
  }
  return { alertVisibleMs: { ...summarize(alertMs), count: alertMs.length }, alertsMissing };
}

/**
 * Step 4: upserts a prevent policy denying xmrig, waits until a miner gets killed (the policy
 * is in force on the node), then times `samples` miners from spawn to their SIGKILL.
 */
async function killLatency(
  graphql: Graphql,
  children: Set<ChildProcess>,
  xmrig: string,
  samples: number,
): Promise<Record<string, unknown>> {
  const policyAt = performance.now();
  await upsertPolicy(graphql, {
    id: 'bench-no-miners',
    name: 'No miners (bench:defender)',
    mode: 'PREVENT',
    deniedProcesses: ['xmrig'],
  });
  let inForceAt: number | undefined;
  while (inForceAt === undefined && performance.now() - policyAt < POLICY_TIMEOUT_MS) {
    // Until the policy has reached the defender a miner lives: timeKill waits 5 s for each.
    if ((await timeKill(children, xmrig)) !== undefined) inForceAt = performance.now();
  }
  if (inForceAt === undefined) {
    return {
      policyInForceMs: null,
      killMs: { skipped: `no miner was killed within ${POLICY_TIMEOUT_MS / 1000} s of the upsert` },
    };
  }
  const killMs: number[] = [];
  let killsMissing = 0;
  for (let i = 0; i < samples; i++) {
    const ms = await timeKill(children, xmrig);
    if (ms === undefined) killsMissing++;
    else killMs.push(ms);
    // Apart, as miners would be: each kill is timed on its own.
    await sleep(100);
  }
  return {
    policyInForceMs: Math.round(inForceAt - policyAt),
    killMs: { ...summarize(killMs), count: killMs.length },
    killsMissing,
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

runMain('bench:defender', main);
