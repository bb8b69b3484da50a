import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from './paths.js';

const run = promisify(execFile);

export interface KafkaHandle {
  brokers: string[];
  stop(): Promise<void>;
}

/**
 * Kafka brokers for a benchmark: the ones given (or in MAMORI_KAFKA_BROKERS), else a fresh
 * single-node broker started with deploy/kafka/kafka.sh on a free port and a temporary data
 * directory, stopped and removed by `stop`.
 */
export async function kafkaForBenchmark(given?: string): Promise<KafkaHandle> {
  const brokers = (given ?? process.env['MAMORI_KAFKA_BROKERS'] ?? '').split(',').filter(Boolean);
  if (brokers.length > 0) return { brokers, stop: () => Promise.resolve() };
  const script = join(REPO_ROOT, 'deploy/kafka/kafka.sh');
  const data = mkdtempSync(join(tmpdir(), 'mamori-bench-kafka-'));
  const port = 29_092 + Math.floor(Math.random() * 1000);
  await run('bash', [script, 'install'], { maxBuffer: 16 * 1024 * 1024 });
  await run('bash', [script, 'start', '--port', String(port), '--data', data], {
    maxBuffer: 16 * 1024 * 1024,
  });
  return {
    brokers: [`127.0.0.1:${port}`],
    async stop() {
      await run('bash', [script, 'stop', '--data', data]).catch(() => undefined);
      rmSync(data, { recursive: true, force: true });
    },
  };
}
