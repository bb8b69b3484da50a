import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { kafkaForBenchmark, type KafkaHandle } from '../support/kafka.js';
import { startIngestProcess } from '../support/mamori-process.js';
import { summarizeProfiles } from '../support/cpu-profile.js';
import { summarize } from '../support/stats.js';
import { buildTemplates } from './events.js';
import { runSimulatedAgent } from './agent.js';
import { agentLoadOptions, positive, readAgentLoad, runMain } from '../support/args.js';

const USAGE = `npm run bench:ingest -- [options]

Starts ingest (and, for --bus kafka without --brokers, a local Kafka broker), connects N
simulated defender agents, one gRPC stream each, sends synthetic events for S seconds and
prints one JSON object on its last line.

  --bus embedded|kafka   bus behind ingest (default embedded)
  --agents N             simulated agents (default 8)
  --seconds S            duration of the run (default 20)
  --rate R               target events/s over all agents; 0 = as fast as acks allow (default 0)
  --batch B              events per batch at most (default 500)
  --window W             unacknowledged batches per agent at most (default 4)
  --brokers LIST         use these Kafka brokers instead of starting one
  --address HOST:PORT    use a running ingest instead of starting one (--token required)
  --token T              agent token for --address; {i} is replaced by the agent's index
  --profile DIR          write V8 CPU profiles of ingest to DIR (open them in Chrome DevTools)
                         and add the functions with most self time to the report
  --replicas N           ingest processes, agents spread over them; kafka only (default 1)
`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      ...agentLoadOptions(20),
      address: { type: 'string' },
      token: { type: 'string' },
      replicas: { type: 'string', default: '1' },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const { bus, agents, seconds, rate, batch, window } = readAgentLoad(values);
  const replicas = positive('replicas', values.replicas);
  if (replicas > 1 && bus !== 'kafka') {
    throw new Error('--replicas: the embedded log belongs to one process; use --bus kafka');
  }

  const cleanups: (() => Promise<void> | void)[] = [];
  let finished: Record<string, unknown> = {};
  try {
    let addresses = values.address ? [values.address] : [];
    let tokenFor = (i: number): string => `bench-agent-token-${i}-0123456789`;
    let ingestCpuMs: (() => number) | undefined;
    if (values.address) {
      if (!values.token) throw new Error('--token is required with --address');
      const token = values.token;
      tokenFor = (i) => token.replaceAll('{i}', String(i));
    } else {
      const env: Record<string, string> = {
        MAMORI_INGEST_TOKENS: JSON.stringify(
          Array.from({ length: agents }, (_, i) => ({
            token: tokenFor(i),
            tenant: `bench-tenant-${i % 2}`,
            agentId: `bench-agent-${i}`,
          })),
        ),
        MAMORI_BUS: bus,
      };
      if (bus === 'embedded') {
        const dir = mkdtempSync(join(tmpdir(), 'mamori-bench-bus-'));
        cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
        env['MAMORI_BUS_DIR'] = dir;
      } else {
        const kafka: KafkaHandle = await kafkaForBenchmark(values.brokers);
        cleanups.push(() => kafka.stop());
        env['MAMORI_KAFKA_BROKERS'] = kafka.brokers.join(',');
        env['MAMORI_TOPIC_EVENTS'] = `bench.events.${Date.now()}`;
        env['MAMORI_TOPIC_EVENTS_REJECTED'] = `bench.rejected.${Date.now()}`;
      }
      const started = await Promise.all(
        Array.from({ length: replicas }, () =>
          startIngestProcess(
            env,
            values.profile ? ['--cpu-prof', `--cpu-prof-dir=${values.profile}`] : [],
          ),
        ),
      );
      for (const ingest of started) cleanups.push(() => ingest.stop());
      addresses = started.map((ingest) => ingest.address);
      ingestCpuMs = () => started.reduce((sum, ingest) => sum + ingest.cpuMs(), 0);
    }

    const templates = buildTemplates();
    const cpuBefore = ingestCpuMs?.() ?? 0;
    const ownCpuBefore = process.cpuUsage();
    const started = performance.now();
    const results = await Promise.all(
      Array.from({ length: agents }, (_, i) =>
        runSimulatedAgent({
          address: addresses[i % addresses.length]!,
          token: tokenFor(i),
          agentId: values.address ? '' : `bench-agent-${i}`,
          rate: rate / agents,
          batchSize: batch,
          window,
          templates,
          durationMs: seconds * 1000,
          drainMs: 15_000,
        }),
      ),
    );
    const wallMs = performance.now() - started;
    const firstSend = Math.min(...results.map((r) => r.firstSendAt).filter((t) => t > 0));
    const lastAck = Math.max(...results.map((r) => r.lastAckAt));
    const activeSeconds = lastAck > firstSend ? (lastAck - firstSend) / 1000 : seconds;
    const sum = (pick: (r: (typeof results)[number]) => number): number =>
      results.reduce((n, r) => n + pick(r), 0);
    const ownCpu = process.cpuUsage(ownCpuBefore);
    const acked = sum((r) => r.acked);
    const report = {
      benchmark: 'ingest',
      bus,
      replicas: addresses.length,
      agents,
      seconds,
      targetRate: rate,
      batchSize: batch,
      window,
      sent: sum((r) => r.sent),
      acked,
      errors: sum((r) => r.errors),
      rejected: sum((r) => r.rejected),
      backlog: sum((r) => r.backlog),
      eventsPerSecond: Math.round(acked / activeSeconds),
      ackLatencyMs: summarize(results.flatMap((r) => r.ackLatencies)),
      batches: sum((r) => r.ackLatencies.length),
      ingestCpuCores: ingestCpuMs
        ? Math.round(((ingestCpuMs() - cpuBefore) / wallMs) * 100) / 100
        : undefined,
      generatorCpuCores: Math.round(((ownCpu.user + ownCpu.system) / 1000 / wallMs) * 100) / 100,
      node: process.version,
    };
    finished = report;
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup();
  }
  // Ingest writes its profile when it exits, that is during cleanup.
  const output = values.profile
    ? { ...finished, ingestProfiles: summarizeProfiles(values.profile) }
    : finished;
  process.stdout.write(`${JSON.stringify(output)}\n`);
}

runMain('bench:ingest', main);
