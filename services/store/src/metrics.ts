import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface StoreMetrics {
  readonly registry: Registry;
  readonly recordsInserted: Counter<'stream'>;
  readonly insertBatches: Counter<'stream'>;
  readonly insertFailures: Counter<'stream'>;
  readonly insertDuration: Histogram<'stream'>;
  readonly deadLetters: Counter<'stream'>;
}

export interface StoreMetricsOptions {
  /**
   * Collects process metrics (CPU, memory, event loop) too; off when another service of the
   * same process already does. @default true
   */
  defaultMetrics?: boolean;
  /** Records buffered and not yet inserted, by stream name, read at scrape time. */
  pending(): ReadonlyMap<string, number>;
}

/** Prometheus metrics of one store instance, in a registry of its own. */
export function createStoreMetrics(options: StoreMetricsOptions): StoreMetrics {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) {
    collectDefaultMetrics({ register: registry, prefix: 'mamori_store_' });
  }
  new Gauge({
    name: 'mamori_store_pending_records',
    help: 'Records buffered and not yet inserted (including an insert in progress), by stream.',
    labelNames: ['stream'],
    registers: [registry],
    collect() {
      for (const [stream, pending] of options.pending()) this.set({ stream }, pending);
    },
  });
  return {
    registry,
    recordsInserted: new Counter({
      name: 'mamori_store_records_inserted_total',
      help: 'Records inserted into the warehouse, by stream.',
      labelNames: ['stream'],
      registers: [registry],
    }),
    insertBatches: new Counter({
      name: 'mamori_store_insert_batches_total',
      help: 'Inserts that succeeded, by stream.',
      labelNames: ['stream'],
      registers: [registry],
    }),
    insertFailures: new Counter({
      name: 'mamori_store_insert_failures_total',
      help: 'Inserts that failed (each is retried after a backoff), by stream.',
      labelNames: ['stream'],
      registers: [registry],
    }),
    insertDuration: new Histogram({
      name: 'mamori_store_insert_duration_seconds',
      help: 'Duration of inserts into the warehouse, failed ones included, by stream, in seconds.',
      labelNames: ['stream'],
      // 10 ms to 60 s: a 20,000-row insert takes a few hundred ms; a stalled one, its timeout.
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [registry],
    }),
    deadLetters: new Counter({
      name: 'mamori_store_dead_letters_total',
      help: 'Records that did not decode and went to the dead-letter topic, by stream.',
      labelNames: ['stream'],
      registers: [registry],
    }),
  };
}
