import type { EnvReader } from '@mamori/common';

/** Which bus a process uses, and where it is. */
export type BusConfig =
  | {
      kind: 'embedded';
      /** Directory of the embedded log. */
      dir: string;
      /** fsync before acknowledging; turning it off loses acknowledged records on power loss. */
      fsync: boolean;
    }
  | {
      kind: 'kafka';
      brokers: string[];
      clientId: string;
      /** Worker threads that produce (kafkajs's encoding off the service's thread); 0 for none. */
      producerThreads: number;
    };

/**
 * Reads the bus settings shared by every service:
 * - `MAMORI_BUS` — `embedded` (default) or `kafka`;
 * - `MAMORI_BUS_DIR` — embedded log directory (default `<dataDir>/bus`);
 * - `MAMORI_BUS_FSYNC` — `false` only for benchmarks (default `true`);
 * - `MAMORI_KAFKA_BROKERS` — comma-separated `host:port`, required for `kafka`;
 * - `MAMORI_KAFKA_CLIENT_ID` — default `mamori-<service>`;
 * - `MAMORI_KAFKA_PRODUCER_THREADS` — worker threads that produce, 0 for none (default 2).
 */
export function readBusConfig(
  env: EnvReader,
  defaults: { dataDir: string; service: string },
): BusConfig {
  const kind = env.oneOf('MAMORI_BUS', ['embedded', 'kafka'] as const, 'embedded');
  if (kind === 'kafka') {
    const brokers = env.list('MAMORI_KAFKA_BROKERS', []);
    if (brokers.length === 0) env.problem('MAMORI_KAFKA_BROKERS: required when MAMORI_BUS=kafka');
    for (const broker of brokers) {
      if (!/^[^\s:]+:\d{1,5}$/.test(broker))
        env.problem(`MAMORI_KAFKA_BROKERS: ${JSON.stringify(broker)} is not host:port`);
    }
    return {
      kind,
      brokers,
      clientId: env.string('MAMORI_KAFKA_CLIENT_ID', `mamori-${defaults.service}`),
      producerThreads: env.int('MAMORI_KAFKA_PRODUCER_THREADS', 2, { min: 0, max: 64 }),
    };
  }
  return {
    kind,
    dir: env.string('MAMORI_BUS_DIR', `${defaults.dataDir}/bus`),
    fsync: env.bool('MAMORI_BUS_FSYNC', true),
  };
}
