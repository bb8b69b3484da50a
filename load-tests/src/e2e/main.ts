/**
 * End to end: simulated agents → ingest → bus → detector and store → ClickHouse → GraphQL, all
 * of it as `mamori start` runs it; then the detector again over the run's own events on the
 * platform's embedded log. Prints one JSON object on its last line.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createEmbeddedBus } from '@mamori/bus';
import { Topics } from '@mamori/proto';
import { runSimulatedAgent } from '../ingest/agent.js';
import { buildTemplates } from '../ingest/events.js';
import { summarizeProfiles } from '../support/cpu-profile.js';
import { runDetectorUntilCommitted } from '../support/detector-run.js';
import { graphqlClient } from '../support/graphql.js';
import { kafkaForBenchmark } from '../support/kafka.js';
import { startMamoriProcess } from '../support/mamori-process.js';
import { summarize } from '../support/stats.js';
import { agentLoadOptions, readAgentLoad, runMain } from '../support/args.js';
import { alertProbeTemplate } from './alert-probe.js';

const USAGE = `npm run bench:e2e -- [options]

Starts the platform (\`mamori start\`: ingest, detector, store and the GraphQL API in one
process, on the embedded log or Kafka, history in chDB), connects N simulated agents and sends
events for S seconds. Meanwhile a probe agent of its own tenant sends 4 events a second and
polls the GraphQL API until each one is returned (the visible lag), and an alert probe of the
same tenant sends a miner's start once a second and polls \`alerts\` until its alert is
returned (the alert lag). At the end it waits until every acknowledged event is counted through
GraphQL, stops the platform and, on the embedded bus, runs the detector again over the events
on the platform's log with a group of its own, alerts to a topic of their own: the detector's
throughput.

  --bus embedded|kafka   the bus (default embedded); kafka starts a local broker unless
                         --brokers is given
  --agents N             simulated agents (default 8)
  --seconds S            duration of the run (default 30)
  --rate R               target events/s over all agents; 0 = as fast as acks allow (default 0)
  --batch B              events per batch at most (default 500)
  --window W             unacknowledged batches per agent at most (default 4)
  --brokers LIST         Kafka brokers to use instead of starting one
  --profile DIR          write a V8 CPU profile of the platform's main thread to DIR and add
                         the functions with most self time to the report (chDB's own
                         threads are not in it; platformCpuCores counts them)
  --no-detector-replay   skip the detector's run over the log after the platform stopped

eventsPerSecond: events acknowledged by ingest and counted in ClickHouse at the end, divided
by the time from the first send until the last of them was counted.
`;

const TENANTS = 2;
const PROBE_TENANT = 'bench-probe';
/** Events per second the probe sends: enough samples for a p99 over a 30 s run. */
const PROBE_RATE = 4;
/** Alerting events per second the alert probe sends: few, next to the run's real alerts. */
const ALERT_PROBE_RATE = 1;
/**
 * The replay's own group and topics: the platform's alerts, checkpoints and rule catalog stay as
 * they were (the policies and rule tuning it reads are the platform's).
 */
const REPLAY_GROUP = 'bench-e2e-detector-replay';
const REPLAY_ALERTS_TOPIC = 'bench.e2e.replay.alerts';
const REPLAY_STATE_TOPIC = 'bench.e2e.replay.detector-state';
const REPLAY_CATALOG_TOPIC = 'bench.e2e.replay.rule-catalog';
/** How long the replay may take before it is reported incomplete, in ms. */
const REPLAY_TIMEOUT_MS = 600_000;

interface Platform {
  ingestPort: number;
  apiPort: number;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      ...agentLoadOptions(30),
      'no-detector-replay': { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const { bus, agents, seconds, rate, batch, window } = readAgentLoad(values);

  const cleanups: (() => Promise<void> | void)[] = [];
  let report: Record<string, unknown> = {};
  try {
    const dataDir = mkdtempSync(join(tmpdir(), 'mamori-bench-e2e-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const agentToken = (i: number): string => `bench-agent-token-${i}-0123456789`;
    const probeToken = 'bench-probe-token-0123456789';
    const alertProbeToken = 'bench-alert-probe-token-0123456789';
    const apiToken = (tenant: string): string => `bench-api-token-${tenant}-0123456789`;
    const tenants = [...Array.from({ length: TENANTS }, (_, i) => `bench-tenant-${i}`)];
    const env: Record<string, string> = {
      MAMORI_DATA_DIR: dataDir,
      MAMORI_INGEST_PORT: '0',
      MAMORI_API_PORT: '0',
      MAMORI_BUS: bus,
      MAMORI_INGEST_TOKENS: JSON.stringify([
        ...Array.from({ length: agents }, (_, i) => ({
          token: agentToken(i),
          tenant: tenants[i % TENANTS],
          agentId: `bench-agent-${i}`,
        })),
        { token: probeToken, tenant: PROBE_TENANT, agentId: 'bench-probe' },
        { token: alertProbeToken, tenant: PROBE_TENANT, agentId: 'bench-alert-probe' },
      ]),
      MAMORI_API_TOKENS: JSON.stringify([
        ...[...tenants, PROBE_TENANT].map((tenant) => ({
          token: apiToken(tenant),
          tenant,
          role: 'viewer',
        })),
      ]),
    };
    if (bus === 'kafka') {
      const kafka = await kafkaForBenchmark(values.brokers);
      cleanups.push(() => kafka.stop());
      env['MAMORI_KAFKA_BROKERS'] = kafka.brokers.join(',');
      const run = Date.now();
      env['MAMORI_TOPIC_EVENTS'] = `bench.e2e.events.${run}`;
      env['MAMORI_TOPIC_EVENTS_REJECTED'] = `bench.e2e.rejected.${run}`;
      env['MAMORI_STORE_GROUP'] = `bench-e2e-store-${run}`;
    }
    const platform = await startMamoriProcess<Platform>({
      command: 'start',
      env,
      nodeArgs: values.profile ? ['--cpu-prof', `--cpu-prof-dir=${values.profile}`] : [],
      ready: (entry) =>
        entry['msg'] === 'mamori is running'
          ? { ingestPort: Number(entry['ingestPort']), apiPort: Number(entry['apiPort']) }
          : undefined,
    });
    // Stopped once only: MamoriProcess.stop waits for an 'exit' that a process already killed
    // by a signal does not emit again.
    let platformStopped = false;
    const stopPlatform = async (): Promise<void> => {
      if (platformStopped) return;
      platformStopped = true;
      await platform.stop();
    };
    cleanups.push(stopPlatform);
    const address = `127.0.0.1:${platform.ready.ingestPort}`;
    const apiUrl = `http://127.0.0.1:${platform.ready.apiPort}/graphql`;
    const probeGraphql = graphqlClient(apiUrl, apiToken(PROBE_TENANT));

    const templates = buildTemplates();
    const cpuBefore = platform.cpuMs();
    const ownCpuBefore = process.cpuUsage();
    const started = performance.now();

    // The probe: its events' send times, and how long each took to be returned by a query.
    const probeSent = new Map<string, number>();
    const lags: number[] = [];
    let probing = true;
    const poller = (async () => {
      while (probing || probeSent.size > 0) {
        const polledAt = performance.now();
        const data = await probeGraphql<{ events: { edges: { node: { id: string } }[] } }>(
          `
            query {
              events(first: 50) {
                edges {
                  node {
                    id
                  }
                }
              }
            }
          `,
        );
        for (const { node } of data.events.edges) {
          const sentAt = probeSent.get(node.id);
          if (sentAt === undefined) continue;
          lags.push(polledAt - sentAt);
          probeSent.delete(node.id);
        }
        // Give up on probes that never show (they are reported as missing).
        if (!probing && performance.now() - started > (seconds + 120) * 1000) break;
        await sleep(50);
      }
    })();
    // The alert probe: its alerting events' send times, and how long each took until a query
    // of alerts returned the alert of that event (an alert names its event's id).
    const alertProbeSent = new Map<string, number>();
    const alertLags: number[] = [];
    const alertPoller = (async () => {
      while (probing || alertProbeSent.size > 0) {
        const polledAt = performance.now();
        const data = await probeGraphql<{ alerts: { edges: { node: { eventId: string } }[] } }>(
          `
            query {
              alerts(first: 50, filter: { severities: [CRITICAL] }) {
                edges {
                  node {
                    eventId
                  }
                }
              }
            }
          `,
        );
        for (const { node } of data.alerts.edges) {
          const sentAt = alertProbeSent.get(node.eventId);
          if (sentAt === undefined) continue;
          alertLags.push(polledAt - sentAt);
          alertProbeSent.delete(node.eventId);
        }
        if (!probing && performance.now() - started > (seconds + 120) * 1000) break;
        await sleep(50);
      }
    })();
    const probe = runSimulatedAgent({
      address,
      token: probeToken,
      agentId: 'bench-probe',
      rate: PROBE_RATE,
      batchSize: 1,
      window: 4,
      templates,
      durationMs: seconds * 1000,
      drainMs: 15_000,
      onSend: (ids, at) => {
        for (const id of ids) probeSent.set(id, at);
      },
    });
    const alertProbe = runSimulatedAgent({
      address,
      token: alertProbeToken,
      agentId: 'bench-alert-probe',
      rate: ALERT_PROBE_RATE,
      batchSize: 1,
      window: 4,
      templates: [alertProbeTemplate()],
      durationMs: seconds * 1000,
      drainMs: 15_000,
      onSend: (ids, at) => {
        for (const id of ids) alertProbeSent.set(id, at);
      },
    });
    const results = await Promise.all(
      Array.from({ length: agents }, (_, i) =>
        runSimulatedAgent({
          address,
          token: agentToken(i),
          agentId: `bench-agent-${i}`,
          rate: rate / agents,
          batchSize: batch,
          window,
          templates,
          durationMs: seconds * 1000,
          drainMs: 15_000,
        }),
      ),
    );
    const sendEnded = performance.now();
    await Promise.all([probe, alertProbe]);
    probing = false;

    // Wait until everything acknowledged is counted in ClickHouse.
    const acked = results.reduce((n, r) => n + r.acked, 0);
    const firstSend = Math.min(...results.map((r) => r.firstSendAt).filter((t) => t > 0));
    const lastAck = Math.max(...results.map((r) => r.lastAckAt));
    let stored = 0;
    let storedAt = 0;
    const deadline = performance.now() + 300_000;
    while (performance.now() < deadline) {
      stored = 0;
      for (const tenant of tenants) stored += await countEvents(apiUrl, apiToken(tenant));
      if (stored >= acked) {
        storedAt = performance.now();
        break;
      }
      await sleep(200);
    }
    await Promise.all([poller, alertPoller]);
    const cpuMs = platform.cpuMs() - cpuBefore;
    const wallMs = performance.now() - started;
    const activeSeconds = ((storedAt || performance.now()) - firstSend) / 1000;
    report = {
      benchmark: 'e2e',
      bus,
      agents,
      seconds,
      targetRate: rate,
      batchSize: batch,
      window,
      acked,
      stored,
      complete: stored >= acked,
      eventsPerSecond: Math.round(Math.min(stored, acked) / activeSeconds),
      ingestEventsPerSecond: Math.round(acked / ((lastAck - firstSend) / 1000)),
      /** How long the store took, after the last acknowledgement, to make the rest queryable. */
      catchUpMs: storedAt ? Math.round(storedAt - Math.max(lastAck, sendEnded)) : undefined,
      visibleLagMs: summarize(lags),
      probes: lags.length,
      probesMissing: probeSent.size,
      alertVisibleMs: { ...summarize(alertLags), count: alertLags.length },
      alertProbesMissing: alertProbeSent.size,
      errors: results.reduce((n, r) => n + r.errors + r.rejected, 0),
      platformCpuCores: Math.round((cpuMs / wallMs) * 100) / 100,
      // The simulated agents and the probe: what the measurement itself costs on this machine.
      generatorCpuCores: Math.round((cpuMsOf(process.cpuUsage(ownCpuBefore)) / wallMs) * 100) / 100,
      node: process.version,
    };

    // Phase 2: the detector over the run's own events, on the platform's log once it is closed
    // (the embedded log belongs to one process at a time).
    const stopBegan = performance.now();
    await stopPlatform();
    report['platformStopMs'] = Math.round(performance.now() - stopBegan);
    if (values['no-detector-replay']) {
      report['detector'] = { skipped: '--no-detector-replay' };
    } else if (bus !== 'embedded') {
      report['detector'] = { skipped: 'the replay runs on the embedded bus only' };
    } else {
      report['detector'] = await replayDetector(dataDir);
    }
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup();
  }
  // The platform writes its profile when it exits, that is during cleanup.
  if (values.profile) report['platformProfiles'] = summarizeProfiles(values.profile);
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

/**
 * Runs the detector (built-in rules, as `mamori start` configures it) over the events topic
 * of the platform's log in `dataDir`, with a group of its own, its alerts, checkpoints and rule
 * catalog to topics of their own, until every record is handled, then stops it (which commits
 * the rest).
 */
async function replayDetector(dataDir: string): Promise<Record<string, unknown>> {
  // Where `mamori start` keeps its log: MAMORI_BUS_DIR, by default <MAMORI_DATA_DIR>/bus.
  const dir = join(dataDir, 'bus');
  const bus = await createEmbeddedBus({ dir });
  try {
    const run = await runDetectorUntilCommitted({
      bus,
      env: {
        MAMORI_BUS: 'embedded',
        MAMORI_BUS_DIR: dir,
        MAMORI_DETECTOR_GROUP: REPLAY_GROUP,
        MAMORI_TOPIC_EVENTS: Topics.events,
        MAMORI_TOPIC_ALERTS: REPLAY_ALERTS_TOPIC,
        MAMORI_TOPIC_DETECTOR_STATE: REPLAY_STATE_TOPIC,
        MAMORI_TOPIC_RULE_CATALOG: REPLAY_CATALOG_TOPIC,
        MAMORI_DETECTOR_WATCH: 'false',
      },
      timeoutMs: REPLAY_TIMEOUT_MS,
    });
    // What the platform's own detector produced from the same events, for comparison.
    const platformAlerts = (await bus.offsets(Topics.alerts)).reduce(
      (sum, { low, high }) => sum + high - low,
      0,
    );
    const ms = run.ms;
    return {
      eventsPerSecond: Math.round(run.events / (ms / 1000)),
      events: run.events,
      complete: run.complete,
      evaluated: run.evaluated,
      skipped: run.skipped,
      alerts: run.alerts,
      platformAlerts,
      seconds: Math.round(ms) / 1000,
      startMs: Math.round(run.startMs),
      cpuCores: Math.round((run.cpuMicros / 1000 / ms) * 100) / 100,
      cpuMicrosPerEvent: Math.round((run.cpuMicros / Math.max(run.events, 1)) * 100) / 100,
    };
  } finally {
    await bus.close();
  }
}

/** The tenant's events over the last day, through GraphQL's `eventCounts`. */
async function countEvents(url: string, token: string): Promise<number> {
  const now = Date.now();
  const from = new Date(now - 24 * 3_600_000).toISOString();
  const to = new Date(now + 3_600_000).toISOString();
  const data = await graphqlClient(
    url,
    token,
  )<{ eventCounts: { count: number }[] }>(
    `query { eventCounts(from: "${from}", to: "${to}", bucketSeconds: 86400) { count } }`,
  );
  return data.eventCounts.reduce((n, bucket) => n + bucket.count, 0);
}

/** CPU time of a `process.cpuUsage()` delta, in ms. */
function cpuMsOf(usage: NodeJS.CpuUsage): number {
  return (usage.user + usage.system) / 1000;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

runMain('bench:e2e', main);
