import { createEnvReader, isMamoriError } from '@mamori/common';
import { describe, expect, it } from 'vitest';
import { readWarehouseConfig } from '../src/index.js';

function read(env: Record<string, string>) {
  const reader = createEnvReader(env);
  const config = readWarehouseConfig(reader, { dataDir: '/var/lib/mamori' });
  return { config, done: () => reader.done() };
}

function problems(env: Record<string, string>): string {
  const { done } = read(env);
  try {
    done();
  } catch (err) {
    if (isMamoriError(err, 'MAMORI_CONFIG')) return err.message;
    throw err;
  }
  throw new Error('expected configuration problems');
}

describe('readWarehouseConfig', () => {
  it('defaults to chDB under the data directory, database mamori, 30 days', () => {
    const { config, done } = read({});
    done();
    expect(config).toEqual({
      kind: 'embedded',
      path: '/var/lib/mamori/warehouse',
      database: 'mamori',
      retentionDays: 30,
    });
  });

  it('reads a ClickHouse server with credentials, database and retention', () => {
    const { config, done } = read({
      MAMORI_WAREHOUSE: 'clickhouse',
      MAMORI_CLICKHOUSE_URL: 'https://ch.example.gov:8443',
      MAMORI_CLICKHOUSE_USER: 'mamori',
      MAMORI_CLICKHOUSE_PASSWORD: 'secret',
      MAMORI_CLICKHOUSE_DATABASE: 'soc',
      MAMORI_EVENTS_RETENTION_DAYS: '90',
    });
    done();
    expect(config).toEqual({
      kind: 'clickhouse',
      url: 'https://ch.example.gov:8443',
      username: 'mamori',
      password: 'secret',
      database: 'soc',
      retentionDays: 90,
    });
  });

  it('reports every problem at once without echoing a URL that may hold a password', () => {
    const message = problems({
      MAMORI_WAREHOUSE: 'clickhouse',
      MAMORI_CLICKHOUSE_URL: 'ftp://user:hunter2@ch',
      MAMORI_CLICKHOUSE_DATABASE: 'soc; DROP',
      MAMORI_EVENTS_RETENTION_DAYS: '0',
    });
    expect(message).toContain('MAMORI_CLICKHOUSE_URL');
    expect(message).toContain('MAMORI_CLICKHOUSE_DATABASE');
    expect(message).toContain('MAMORI_EVENTS_RETENTION_DAYS');
    expect(message).not.toContain('hunter2');
  });

  it('requires a URL for clickhouse and refuses one that embedded would ignore', () => {
    expect(problems({ MAMORI_WAREHOUSE: 'clickhouse' })).toContain(
      'MAMORI_CLICKHOUSE_URL: required',
    );
    expect(problems({ MAMORI_CLICKHOUSE_URL: 'http://ch:8123' })).toContain(
      'MAMORI_WAREHOUSE is embedded',
    );
    expect(problems({ MAMORI_WAREHOUSE: 'server' })).toContain('MAMORI_WAREHOUSE');
  });
});
