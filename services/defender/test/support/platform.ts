import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEmbeddedBus, type EmbeddedBus } from '@mamori/bus';
import { createSilentLogger } from '@mamori/common';
import { captureLogs } from '@mamori/common/testing';
import { startIngest, type RunningIngest } from '@mamori/ingest';
import {
  createEventCodec,
  protoType,
  Topics,
  type Event,
  type Event__Output,
  type Policy,
} from '@mamori/proto';
import { onTestFinished } from 'vitest';
import { buildDefender, type DefenderApp } from '../../src/app.js';
import { readDefenderConfig } from '../../src/config.js';
import { createNodeActions } from '../../src/enforce/enforcer.js';
import { processStartTime } from '../../src/procfs/index.js';
import type { Sensor, SensorContext } from '../../src/sensors/sensor.js';

export const TENANT = 'city-a';
export const AGENT = 'node-1';
export const TOKEN = 'defender-test-token-0123456789abcdef';

/** A sensor the test drives: what it emits is what the test hands it. */
export interface ManualSensor extends Sensor {
  emit(event: Event, priority?: 'high' | 'low'): boolean;
}

export function manualSensor(): ManualSensor {
  let context: SensorContext | undefined;
  return {
    name: 'manual',
    start(ctx) {
      context = ctx;
      return Promise.resolve({ sensor: 'manual', mode: 'test', limitations: [] });
    },
    stop: () => Promise.resolve(),
    emit: (event, priority) => context?.emit(event, priority) ?? false,
  };
}

/** Ingest on an embedded bus in this process, on a port it keeps across restarts. */
export interface Platform {
  dir: string;
  bus: EmbeddedBus;
  port: number;
  /** Stops ingest (the bus stays): the platform is away. */
  stopIngest(): Promise<void>;
  /** Starts ingest again on the same port. */
  startIngest(): Promise<void>;
  /** Every event on the events topic so far, decoded. */
  events(): Promise<Event__Output[]>;
  writePolicy(policy: Policy): Promise<void>;
  /** Ingest's Prometheus metrics, as text. */
  metrics(): Promise<string>;
}

const codec = createEventCodec();
const policyType = protoType('mamori.v1.Policy');

export async function platform(): Promise<Platform> {
  const dir = mkdtempSync(join(tmpdir(), 'mamori-defender-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  const bus = await createEmbeddedBus({ dir: join(dir, 'bus'), fsync: false });
  onTestFinished(() => bus.close());
  let ingest: RunningIngest | undefined;
  let port = 0;
  const env = () => ({
    MAMORI_DATA_DIR: dir,
    MAMORI_INGEST_PORT: String(port),
    MAMORI_INGEST_TOKENS: JSON.stringify([{ token: TOKEN, tenant: TENANT, agentId: AGENT }]),
    MAMORI_INGEST_OPS_PORT: '0',
  });
  const start = async () => {
    ingest = await startIngest(env(), createSilentLogger(), { bus, opsServer: false });
    port = ingest.port;
  };
  await start();
  onTestFinished(async () => {
    await ingest?.stop();
  });
  return {
    dir,
    bus,
    get port() {
      return port;
    },
    async stopIngest() {
      await ingest?.stop();
      ingest = undefined;
    },
    startIngest: start,
    metrics: async () => (await ingest?.app.metrics.registry.metrics()) ?? '',
    async events() {
      const offsets = await bus.offsets(Topics.events).catch(() => []);
      const total = offsets.reduce((sum, o) => sum + o.high - o.low, 0);
      if (total === 0) return [];
      const seen: Event__Output[] = [];
      const consumer = bus.consumer({
        groupId: `reader-${Math.random()}`,
        topics: [Topics.events],
      });
      await new Promise<void>((resolve) => {
        void consumer.run((batch) => {
          for (const r of batch.records) seen.push(codec.decode(r.value));
          if (seen.length >= total) resolve();
          return Promise.resolve();
        });
      });
      await consumer.close();
      return seen;
    },
    async writePolicy(policy) {
      await bus.ensureTopics([
        { topic: Topics.policies, partitions: 1, cleanupPolicy: 'compact', retentionMs: -1 },
      ]);
      await bus.produce(Topics.policies, [
        {
          key: Buffer.from(`${TENANT}/${policy.id}`),
          value: Buffer.from(
            policyType.encode(policyType.fromObject({ ...policy, tenant_id: TENANT })).finish(),
          ),
        },
      ]);
    },
  };
}

/** A defender of the test's agent against `platform`, with `sensors`, stopped at the end. */
export async function defender(
  p: Platform,
  sensors: Sensor[],
  env: Record<string, string> = {},
): Promise<{ app: DefenderApp; lines: ReturnType<typeof captureLogs>['lines'] }> {
  const config = readDefenderConfig({
    MAMORI_DATA_DIR: p.dir,
    MAMORI_DEFENDER_INGEST: `127.0.0.1:${p.port}`,
    MAMORI_DEFENDER_TOKEN: TOKEN,
    MAMORI_DEFENDER_AGENT_ID: AGENT,
    MAMORI_DEFENDER_BATCH_MS: '20',
    MAMORI_DEFENDER_RECONNECT_INITIAL_MS: '50',
    MAMORI_DEFENDER_RECONNECT_MAX_MS: '1000',
    ...env,
  });
  const { logger, lines } = captureLogs();
  const app = buildDefender({
    config,
    logger,
    sensors,
    actions: createNodeActions((pid) => processStartTime(pid)),
  });
  onTestFinished(() => app.stop());
  await app.start();
  return { app, lines };
}

/**
 * A real child process that lives until killed (or the test ends): a copy of `sleep` named
 * `name`, so that its comm, exe and argv[0] all say `name`.
 */
export function longLived(name = 'sleep', args: string[] = ['600']): ChildProcess {
  const dir = mkdtempSync(join(tmpdir(), 'mamori-proc-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  const exe = join(dir, name);
  copyFileSync('/bin/sleep', exe);
  chmodSync(exe, 0o755);
  const child = spawn(exe, args.length > 0 ? args : ['600'], { stdio: 'ignore' });
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return child;
}
