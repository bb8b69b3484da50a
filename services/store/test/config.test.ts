import { isMamoriError } from '@mamori/common';
import { Topics } from '@mamori/proto';
import { describe, expect, it } from 'vitest';
import { readStoreConfig } from '../src/config.js';

describe('store config', () => {
  it('defaults to the embedded bus and warehouse under the data directory', () => {
    const config = readStoreConfig({ MAMORI_DATA_DIR: '/var/lib/mamori' });
    expect(config).toMatchObject({
      bus: { kind: 'embedded', dir: '/var/lib/mamori/bus' },
      warehouse: { kind: 'embedded', path: '/var/lib/mamori/warehouse', database: 'mamori' },
      groupId: 'mamori-store',
      topics: { events: Topics.events },
      eventPartitions: 4,
      batch: { maxRecords: 100_000, maxBytes: 64 * 1024 * 1024, flushMs: 1000 },
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('reads the batch bounds and group from the environment', () => {
    const config = readStoreConfig({
      MAMORI_STORE_GROUP: 'store-b',
      MAMORI_STORE_BATCH_EVENTS: '500',
      MAMORI_STORE_BATCH_BYTES: '65536',
      MAMORI_STORE_FLUSH_MS: '50',
      MAMORI_STORE_RETRY_INITIAL_MS: '10',
      MAMORI_STORE_RETRY_MAX_MS: '1000',
    });
    expect(config).toMatchObject({
      groupId: 'store-b',
      batch: { maxRecords: 500, maxBytes: 65_536, flushMs: 50 },
      retry: { initialMs: 10, maxMs: 1000 },
    });
  });

  it('reports every problem at once', () => {
    let error: unknown;
    try {
      readStoreConfig({
        MAMORI_STORE_BATCH_EVENTS: '0',
        MAMORI_STORE_FLUSH_MS: 'soon',
        MAMORI_STORE_RETRY_INITIAL_MS: '5000',
        MAMORI_STORE_RETRY_MAX_MS: '100',
        MAMORI_WAREHOUSE: 'clickhouse',
        MAMORI_BUS: 'kafka',
      });
    } catch (err) {
      error = err;
    }
    expect(isMamoriError(error, 'MAMORI_CONFIG')).toBe(true);
    const message = (error as Error).message;
    for (const name of [
      'MAMORI_KAFKA_BROKERS',
      'MAMORI_CLICKHOUSE_URL',
      'MAMORI_STORE_BATCH_EVENTS',
      'MAMORI_STORE_FLUSH_MS',
      'MAMORI_STORE_RETRY_MAX_MS',
    ]) {
      expect(message).toContain(name);
    }
  });
});
