import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createEmbeddedBus } from '@mamori/bus';
import { Topics } from '@mamori/proto';
import { describe, expect, it, onTestFinished } from 'vitest';
import { committedCount, produceEvents, testEvent, unique } from './support/events.js';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

describe('mamori store', () => {
  it('stores and commits what it buffered when it gets SIGTERM', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'mamori-store-cli-'));
    onTestFinished(() => rmSync(dataDir, { recursive: true, force: true }));
    const seed = await createEmbeddedBus({ dir: join(dataDir, 'bus'), fsync: false });
    await seed.ensureTopics([{ topic: Topics.events, partitions: 1 }]);
    const tenant = unique('tenant');
    await produceEvents(seed, Topics.events, [testEvent(tenant), testEvent(tenant)]);
    // Last of the batch: its dead-letter log line says the batch reached the store.
    await seed.produce(Topics.events, [{ key: null, value: Buffer.from([0xff, 0xff]) }]);
    await seed.close();

    // The chDB of the child process is its own: this process may have bound another.
    const child = spawn(
      process.execPath,
      [
        '--conditions=@mamori/source',
        '--import',
        'tsx',
        `${REPO_ROOT}services/cli/src/main.ts`,
        'store',
      ],
      {
        cwd: REPO_ROOT,
        // A timer that never fires within the test: only the stop can flush.
        env: {
          ...process.env,
          MAMORI_DATA_DIR: dataDir,
          MAMORI_STORE_FLUSH_MS: '600000',
          // A free port: test files run in parallel.
          MAMORI_STORE_OPS_PORT: '0',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    onTestFinished(() => void child.kill('SIGKILL'));
    const output: string[] = [];
    createInterface({ input: child.stderr }).on('line', (line) => output.push(line));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`the store never read its batch:\n${output.join('\n')}`)),
        30_000,
      );
      createInterface({ input: child.stdout }).on('line', (line) => {
        output.push(line);
        if (line.includes('undecodable record sent to dead letters')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    child.kill('SIGTERM');
    expect(await exited).toBe(0);

    const bus = await createEmbeddedBus({ dir: join(dataDir, 'bus'), fsync: false });
    onTestFinished(() => bus.close());
    expect(await committedCount(bus, 'mamori-store', Topics.events)).toBe(3);
    expect(output.some((line) => line.includes('insert failed'))).toBe(false);
  });
});
