import { spawn } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { partitionForKey } from '../../src/index.js';
import { CRASH_PARTITIONS, CRASH_TOPIC } from './fixtures/crash-constants.js';
import { openBus, readAll, tempDir, waitFor } from './helpers.js';

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const producerScript = fileURLToPath(new URL('./fixtures/crash-producer.ts', import.meta.url));

/** Acknowledged lines before the kill: enough that the log has rolled through many flushes. */
const ACKS_BEFORE_KILL = 30_000;

describe('embedded log crash safety', () => {
  it('reads back every acknowledged record, in order per key, after the producer is SIGKILLed mid-stream', async () => {
    const dir = await tempDir();
    const ackFile = join(dir, 'acks.txt');
    const logDir = join(dir, 'log');
    const child = spawn(
      process.execPath,
      ['--conditions=@mamori/source', '--import', 'tsx', producerScript, logDir, ackFile],
      { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<NodeJS.Signals | number | null>((resolve) =>
      child.on('exit', (code, signal) => resolve(signal ?? code)),
    );
    let exitedEarly = false;
    void exited.then(() => (exitedEarly = true));

    // About 60 bytes an acknowledged line.
    await waitFor(
      async () => {
        if (exitedEarly) throw new Error(`the producer exited early: ${stderr}`);
        return ((await stat(ackFile).catch(() => undefined))?.size ?? 0) > ACKS_BEFORE_KILL * 12;
      },
      30_000,
      'acknowledged records',
    );
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');

    // Only whole lines: the kill may cut the last one.
    const content = await readFile(ackFile, 'utf8');
    const acknowledged = new Map<string, number>();
    let lines = 0;
    for (const line of content.slice(0, content.lastIndexOf('\n')).split('\n')) {
      const [key, sequence] = line.split(' ');
      acknowledged.set(key!, Math.max(acknowledged.get(key!) ?? -1, Number(sequence)));
      lines++;
    }
    expect(lines).toBeGreaterThan(ACKS_BEFORE_KILL);

    const bus = await openBus(logDir);
    const sequences = new Map<string, number[]>();
    for (let partition = 0; partition < CRASH_PARTITIONS; partition++) {
      for (const record of await readAll(bus, CRASH_TOPIC, partition)) {
        const key = record.key!.toString();
        const value = JSON.parse(record.value.toString()) as { key: string; sequence: number };
        expect(value.key).toBe(key);
        expect(partition).toBe(partitionForKey(record.key!, CRASH_PARTITIONS));
        let list = sequences.get(key);
        if (list === undefined) sequences.set(key, (list = []));
        list.push(value.sequence);
      }
    }
    for (const [key, maxAcknowledged] of acknowledged) {
      const read = sequences.get(key) ?? [];
      // Every key reads back as 0, 1, 2, … with no gap, duplicate or reordering…
      expect(read, key).toEqual([...read.keys()]);
      // …and reaches at least the last sequence acknowledged for it.
      expect(read.length - 1, key).toBeGreaterThanOrEqual(maxAcknowledged);
    }

    // The recovered log takes new records right after the last durable one.
    const offsets = await bus.offsets(CRASH_TOPIC);
    const [result] = await bus.produce(CRASH_TOPIC, [
      { key: null, value: Buffer.from('after'), partition: 0 },
    ]);
    expect(result!.offset).toBe(offsets[0]!.high);
  });
});
