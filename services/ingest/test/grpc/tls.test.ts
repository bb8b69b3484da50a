import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSilentLogger } from '@mamori/common';
import { buildApp, type IngestApp } from '../../src/app.js';
import { readIngestConfig } from '../../src/config.js';
import { connectAgent } from '../../src/testing/index.js';
import { MemoryBus } from '../support/memory-bus.js';

const TOKEN = 'tls-test-token-0123456789';
let dir: string;
let app: IngestApp;
let address: string;
let cert: Buffer;

beforeAll(async () => {
  // A throwaway self-signed certificate for 127.0.0.1, made with the system's openssl.
  dir = mkdtempSync(join(tmpdir(), 'mamori-tls-'));
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost,IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  cert = readFileSync(join(dir, 'cert.pem'));
  const config = readIngestConfig({
    MAMORI_INGEST_PORT: '0',
    MAMORI_INGEST_TOKENS: JSON.stringify([{ token: TOKEN, tenant: 'city-a', agentId: 'node-1' }]),
    MAMORI_INGEST_TLS_CERT: join(dir, 'cert.pem'),
    MAMORI_INGEST_TLS_KEY: join(dir, 'key.pem'),
  });
  app = buildApp({ config, bus: new MemoryBus(), logger: createSilentLogger() });
  address = `127.0.0.1:${(await app.start()).port}`;
});

afterAll(async () => {
  await app?.stop(1000);
  rmSync(dir, { recursive: true, force: true });
});

describe('ingest over TLS', () => {
  it('serves agents that trust its certificate', async () => {
    const agent = connectAgent(address, TOKEN, {}, grpc.credentials.createSsl(cert));
    try {
      expect((await agent.hello()).welcome?.tenant_id).toBe('city-a');
    } finally {
      agent.close();
    }
  });

  it('does not speak to a client in plain text', async () => {
    const agent = connectAgent(address, TOKEN);
    try {
      expect((await agent.status).code).toBe(grpc.status.UNAVAILABLE);
    } finally {
      agent.close();
    }
  });

  it('refuses to start with only half of the TLS settings', () => {
    expect(() =>
      readIngestConfig({
        MAMORI_INGEST_TOKENS: JSON.stringify([{ token: TOKEN, tenant: 't', agentId: 'a' }]),
        MAMORI_INGEST_TLS_CERT: join(dir, 'cert.pem'),
      }),
    ).toThrow(/set both or neither/);
  });
});
