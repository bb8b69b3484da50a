import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onTestFinished } from 'vitest';
import { createEmbeddedBus, type EmbeddedBus, type EmbeddedBusOptions } from '../../src/index.js';
import type { BusRecord, ProduceRecord } from '../../src/index.js';

/** A fresh directory for this test, removed when it finishes. */
export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'mamori-bus-test-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Opens an embedded bus that is closed when the test finishes (closing twice is harmless). */
export async function openBus(
  dir: string,
  options: Partial<EmbeddedBusOptions> = {},
): Promise<EmbeddedBus> {
  const bus = await createEmbeddedBus({ dir, ...options });
  onTestFinished(() => bus.close());
  return bus;
}

/** `count` records with keys `key-<i % keys>` and values `value-<i>`. */
export function makeRecords(
  count: number,
  options: { keys?: number; from?: number } = {},
): ProduceRecord[] {
  const keys = options.keys ?? 10;
  const from = options.from ?? 0;
  return Array.from({ length: count }, (_, n) => {
    const i = from + n;
    return { key: Buffer.from(`key-${i % keys}`), value: Buffer.from(`value-${i}`) };
  });
}

/** Every durable record of a partition, read directly. */
export async function readAll(
  bus: EmbeddedBus,
  topic: string,
  partition: number,
): Promise<BusRecord[]> {
  const records: BusRecord[] = [];
  const [offsets] = (await bus.offsets(topic)).filter((p) => p.partition === partition);
  let next = offsets!.low;
  while (next < offsets!.high) {
    const batch = await bus.read(topic, partition, next, 5000);
    if (batch.length === 0) break;
    records.push(...batch);
    next = batch.at(-1)!.offset + 1;
  }
  return records;
}

/** Segment files of a partition, oldest first, as absolute paths. */
export async function segmentFiles(
  dir: string,
  topic: string,
  partition: number,
): Promise<string[]> {
  const partitionDir = join(dir, 'topics', topic, String(partition));
  return (await readdir(partitionDir))
    .filter((name) => name.endsWith('.log'))
    .sort()
    .map((name) => join(partitionDir, name));
}

/** Polls `condition` every 10 ms until it holds; fails after `timeoutMs`. */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
