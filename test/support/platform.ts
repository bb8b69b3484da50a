import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBus, type Bus, type BusRecord } from '@mamori/bus';
import { createSilentLogger } from '@mamori/common';
import { buildApp, readIngestConfig, type IngestApp, type IngestConfig } from '@mamori/ingest';

export type BusKind = 'embedded' | 'kafka';

export interface RunningPlatform {
  config: Readonly<IngestConfig>;
  bus: Bus;
  ingest: IngestApp;
  address: string;
  stop(): Promise<void>;
}

/** Agent credentials used by the end-to-end tests. */
export const AGENTS = [
  { token: 'e2e-token-city-a-node-1-000000', tenant: 'city-a', agentId: 'node-1' },
  { token: 'e2e-token-city-b-node-2-000000', tenant: 'city-b', agentId: 'node-2' },
] as const;

/**
 * Ingest in this process on a real bus: a fresh embedded log in a temporary directory, or
 * the Kafka brokers given, with topics of their own.
 */
export async function startPlatform(
  kind: BusKind,
  brokers?: readonly string[],
): Promise<RunningPlatform> {
  const suffix = `${Date.now()}-${Math.floor(Math.random() * 1e9)}`;
  const dir = kind === 'embedded' ? mkdtempSync(join(tmpdir(), 'mamori-e2e-')) : undefined;
  const config = readIngestConfig({
    MAMORI_INGEST_PORT: '0',
    MAMORI_INGEST_TOKENS: JSON.stringify(AGENTS),
    MAMORI_BUS: kind,
    ...(dir ? { MAMORI_BUS_DIR: dir } : { MAMORI_KAFKA_BROKERS: (brokers ?? []).join(',') }),
    MAMORI_TOPIC_EVENTS: `e2e.events.${suffix}`,
    MAMORI_TOPIC_EVENTS_REJECTED: `e2e.rejected.${suffix}`,
    MAMORI_EVENTS_PARTITIONS: '3',
  });
  const logger = createSilentLogger();
  const bus = await createBus(config.bus, logger);
  const ingest = buildApp({ config, bus, logger });
  const { port } = await ingest.start();
  return {
    config,
    bus,
    ingest,
    address: `127.0.0.1:${port}`,
    async stop() {
      await ingest.stop(2000);
      await bus.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Reads a topic with a fresh consumer group until `count` records arrived (or times out). */
export async function readRecords(
  bus: Bus,
  topic: string,
  count: number,
  timeoutMs = 60_000,
): Promise<BusRecord[]> {
  const records: BusRecord[] = [];
  const consumer = bus.consumer({
    groupId: `e2e-reader-${Date.now()}-${Math.random()}`,
    topics: [topic],
  });
  let done!: () => void;
  const enough = new Promise<void>((resolve) => (done = resolve));
  await consumer.run(async (batch) => {
    records.push(...batch.records);
    await consumer.commit([
      { topic, partition: batch.partition, offset: batch.records.at(-1)!.offset + 1 },
    ]);
    if (records.length >= count) done();
  });
  const timer = new Promise<void>((resolve) => setTimeout(resolve, timeoutMs));
  await Promise.race([enough, timer]);
  await consumer.close();
  return records;
}
