import { isMamoriError } from '@mamori/common';
import { describe, expect, it } from 'vitest';
import { bearerToken, createTokenRegistry } from '../src/auth/tokens.js';
import { readApiConfig } from '../src/config.js';

const TOKENS = JSON.stringify([{ token: 'a'.repeat(32), tenant: 'city-a', role: 'viewer' }]);

describe('readApiConfig', () => {
  it('defaults to 127.0.0.1:8080 and the embedded warehouse', () => {
    const config = readApiConfig({ MAMORI_API_TOKENS: TOKENS });
    expect(config).toMatchObject({
      host: '127.0.0.1',
      port: 8080,
      warehouse: { kind: 'embedded' },
    });
    expect(config.limits).toMatchObject({ maxDepth: 10, maxPageSize: 500 });
    expect(config.tokens.identify('a'.repeat(32))).toEqual({
      tenantId: 'city-a',
      role: 'viewer',
      actor: 'token:3ba3f5f43b92',
    });
  });

  it('opens no bus unless MAMORI_BUS is set, and then reads it like the other services', () => {
    expect(readApiConfig({ MAMORI_API_TOKENS: TOKENS }).bus).toBeUndefined();
    const config = readApiConfig({
      MAMORI_API_TOKENS: TOKENS,
      MAMORI_BUS: 'kafka',
      MAMORI_KAFKA_BROKERS: 'kafka-1:9092',
      MAMORI_TOPIC_POLICIES: 'test.policies',
    });
    expect(config.bus).toMatchObject({
      kind: 'kafka',
      brokers: ['kafka-1:9092'],
      clientId: 'mamori-api',
    });
    expect(config.policiesTopic).toBe('test.policies');
  });

  it('reports every problem at once', () => {
    let error: unknown;
    try {
      readApiConfig({ MAMORI_API_PORT: 'x', MAMORI_API_MAX_PAGE_SIZE: '5000' });
    } catch (err) {
      error = err;
    }
    expect(isMamoriError(error, 'MAMORI_CONFIG')).toBe(true);
    const message = (error as Error).message;
    expect(message).toContain('MAMORI_API_PORT');
    expect(message).toContain('MAMORI_API_MAX_PAGE_SIZE');
    expect(message).toContain('MAMORI_API_TOKENS');
  });
});

describe('API tokens', () => {
  it('maps a token, or its SHA-256, to a tenant and a role', () => {
    const registry = createTokenRegistry(
      [
        { token: 'b'.repeat(32), tenant: 'city-b', role: 'admin' },
        // sha256('c' × 32)
        {
          tokenSha256: 'cd93782b7fb95559de14f738b65988af85d41dc1565f7c7d1ed2d035665b519c',
          tenant: 'city-c',
          role: 'analyst',
        },
      ],
      'test',
    );
    expect(registry.identify('b'.repeat(32))).toEqual({
      tenantId: 'city-b',
      role: 'admin',
      actor: 'token:bdb339768bc5',
    });
    expect(registry.identify('c'.repeat(32))).toEqual({
      tenantId: 'city-c',
      role: 'analyst',
      actor: 'token:cd93782b7fb9',
    });
    expect(registry.identify('unknown-token-0000000000')).toBeUndefined();
    expect(registry.size).toBe(2);
  });

  it('names each bad entry by index and field', () => {
    expect(() =>
      createTokenRegistry(
        [{ token: 'short', tenant: 'city-a', role: 'root' }, { token: 'd'.repeat(32) }],
        'tokens.json',
      ),
    ).toThrow(
      /tokens\.json\[0\]\.role.*\n.*tokens\.json\[0\]: needs.*\n.*tokens\.json\[1\]\.tenant/s,
    );
  });

  it('reads the token of a Bearer authorization header only', () => {
    expect(bearerToken('Bearer abc.def')).toBe('abc.def');
    expect(bearerToken('Basic abc')).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
  });
});
