import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { isMamoriError } from '@mamori/common';
import { bearerToken, createTokenRegistry, loadTokenFile } from '../../src/auth/tokens.js';

describe('agent credentials', () => {
  it('maps a token, or its SHA-256, to the tenant and agent id', () => {
    const secret = 'a-long-enough-agent-token-2';
    const registry = createTokenRegistry(
      [
        { token: 'a-long-enough-agent-token-1', tenant: 'city-a', agentId: 'node-1' },
        {
          tokenSha256: createHash('sha256').update(secret).digest('hex'),
          tenant: 'city-b',
          agentId: 'node-9',
        },
      ],
      'test',
    );
    expect(registry.identify('a-long-enough-agent-token-1')).toEqual({
      tenantId: 'city-a',
      agentId: 'node-1',
    });
    expect(registry.identify(secret)).toEqual({ tenantId: 'city-b', agentId: 'node-9' });
    expect(registry.identify('unknown-token-unknown-token')).toBeUndefined();
  });

  it('reports every bad entry at once, by index and field', () => {
    let error: unknown;
    try {
      createTokenRegistry(
        [
          { token: 'short', tenant: 'ok', agentId: 'a' },
          { token: 'long-enough-token-123', tenant: 'bad tenant!', agentId: '' },
        ],
        'tokens.json',
      );
    } catch (err) {
      error = err;
    }
    expect(isMamoriError(error, 'MAMORI_CONFIG')).toBe(true);
    const message = (error as Error).message;
    expect(message).toContain('tokens.json[0]: needs "tokenSha256"');
    expect(message).toContain('tokens.json[1].tenant');
    expect(message).toContain('tokens.json[1].agentId');
  });

  it('names the file when it is not JSON', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mamori-tokens-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'agents.json');
    writeFileSync(file, '{ not json');
    expect(() => loadTokenFile(file)).toThrow(/agents\.json: not valid JSON/);
    writeFileSync(
      file,
      JSON.stringify({ agents: [{ token: 'file-token-0123456789', tenant: 't', agentId: 'a' }] }),
    );
    expect(loadTokenFile(file).identify('file-token-0123456789')?.tenantId).toBe('t');
  });

  it('reads only well-formed bearer authorization values', () => {
    expect(bearerToken('Bearer abc.DEF-123')).toBe('abc.DEF-123');
    expect(bearerToken('bearer xyz')).toBe('xyz');
    expect(bearerToken('Basic abc')).toBeUndefined();
    expect(bearerToken('Bearer ')).toBeUndefined();
    expect(bearerToken(Buffer.from('Bearer x'))).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
  });
});
