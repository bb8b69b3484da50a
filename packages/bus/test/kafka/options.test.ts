import { ErrorCode, isMamoriError } from '@mamori/common';
import { describe, expect, it } from 'vitest';
import { resolveKafkaBusOptions } from '../../src/kafka/options.js';

describe('resolveKafkaBusOptions', () => {
  it('fills in the documented defaults', () => {
    const options = resolveKafkaBusOptions({ brokers: ['127.0.0.1:19092'] });
    expect(options).toMatchObject({
      clientId: 'mamori',
      connectionTimeoutMs: 3_000,
      requestTimeoutMs: 30_000,
      retries: 5,
      sessionTimeoutMs: 10_000,
      heartbeatIntervalMs: 1_000,
      rebalanceTimeoutMs: 30_000,
      maxWaitMs: 500,
      maxProduceRequestBytes: 1_000_000,
      redeliveryBackoff: { initialMs: 200, maxMs: 10_000 },
    });
  });

  it('reports every invalid option at once, as a Config error', () => {
    let caught: unknown;
    try {
      resolveKafkaBusOptions({
        brokers: ['nohost', ' '],
        sessionTimeoutMs: 1_000,
        heartbeatIntervalMs: 1_000,
        retries: -1,
      });
    } catch (err) {
      caught = err;
    }
    expect(isMamoriError(caught, ErrorCode.Config)).toBe(true);
    const message = (caught as Error).message;
    expect(message).toContain('"nohost" is not host:port');
    expect(message).toContain('retries');
    expect(message).toContain('heartbeatIntervalMs (1000) must be below sessionTimeoutMs (1000)');
  });

  it('accepts IPv6 brokers in brackets', () => {
    expect(resolveKafkaBusOptions({ brokers: ['[::1]:9092'] }).brokers).toEqual(['[::1]:9092']);
  });
});
