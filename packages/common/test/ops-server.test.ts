import { describe, expect, it, onTestFinished } from 'vitest';
import {
  allReady,
  createSilentLogger,
  startOpsServer,
  type Readiness,
  type ReadinessCheck,
} from '../src/index.js';

const METRICS_TEXT = '# HELP up 1 when up\n# TYPE up gauge\nup 1\n';

async function serve(
  ready: ReadinessCheck = () => ({ ready: true }),
  readyTimeoutMs?: number,
): Promise<string> {
  const server = await startOpsServer({
    host: '127.0.0.1',
    port: 0,
    ready,
    metrics: {
      contentType: 'text/plain; version=0.0.4; charset=utf-8',
      metrics: () => Promise.resolve(METRICS_TEXT),
    },
    logger: createSilentLogger(),
    ...(readyTimeoutMs === undefined ? {} : { readyTimeoutMs }),
  });
  onTestFinished(() => server.close());
  expect(server.port).toBeGreaterThan(0);
  return `http://127.0.0.1:${server.port}`;
}

describe('ops server', () => {
  it('answers /healthz with 200 while the process runs', async () => {
    const base = await serve(() => ({ ready: false, reason: 'starting' }));
    const response = await fetch(`${base}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'live' });
  });

  it('answers /readyz with 200 when ready and 503 with the reason when not', async () => {
    let readiness: Readiness = { ready: false, reason: 'bus unreachable' };
    const base = await serve(() => readiness);
    const notReady = await fetch(`${base}/readyz`);
    expect(notReady.status).toBe(503);
    expect(await notReady.json()).toEqual({ status: 'not ready', reason: 'bus unreachable' });
    readiness = { ready: true };
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready' });
  });

  it('is not ready when the readiness check throws or outlasts its timeout', async () => {
    const throwing = await serve(() => Promise.reject(new Error('ping refused')));
    const failed = await fetch(`${throwing}/readyz`);
    expect(failed.status).toBe(503);
    expect(((await failed.json()) as { reason: string }).reason).toContain('ping refused');

    const hanging = await serve(() => new Promise<Readiness>(() => undefined), 50);
    const late = await fetch(`${hanging}/readyz`);
    expect(late.status).toBe(503);
    expect(((await late.json()) as { reason: string }).reason).toContain('timed out');
  });

  it('serves the metrics text with the registry content type', async () => {
    const base = await serve();
    const response = await fetch(`${base}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(await response.text()).toBe(METRICS_TEXT);
  });

  it('answers 404 for other paths and 405 for other methods', async () => {
    const base = await serve();
    expect((await fetch(`${base}/`)).status).toBe(404);
    expect((await fetch(`${base}/graphql`)).status).toBe(404);
    const post = await fetch(`${base}/metrics`, { method: 'POST', body: '{}' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });

  it('closes cleanly, after which the port refuses connections', async () => {
    const server = await startOpsServer({
      host: '127.0.0.1',
      port: 0,
      ready: () => ({ ready: true }),
      metrics: { contentType: 'text/plain', metrics: () => Promise.resolve('') },
      logger: createSilentLogger(),
    });
    const base = `http://127.0.0.1:${server.port}`;
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    await server.close();
    await server.close();
    await expect(fetch(`${base}/healthz`)).rejects.toThrow();
  });

  it('fails to start when the port is taken', async () => {
    const first = await startOpsServer({
      host: '127.0.0.1',
      port: 0,
      ready: () => ({ ready: true }),
      metrics: { contentType: 'text/plain', metrics: () => Promise.resolve('') },
      logger: createSilentLogger(),
    });
    onTestFinished(() => first.close());
    await expect(
      startOpsServer({
        host: '127.0.0.1',
        port: first.port,
        ready: () => ({ ready: true }),
        metrics: { contentType: 'text/plain', metrics: () => Promise.resolve('') },
        logger: createSilentLogger(),
      }),
    ).rejects.toThrow(/EADDRINUSE/);
  });
});

describe('allReady', () => {
  it('is ready only when every check is, naming each that is not', async () => {
    const check = allReady({
      ingest: () => ({ ready: true }),
      store: () => Promise.resolve({ ready: false, reason: 'inserts failing' }),
      api: () => ({ ready: false, reason: 'warehouse unreachable' }),
    });
    expect(await check()).toEqual({
      ready: false,
      reason: 'store: inserts failing; api: warehouse unreachable',
    });
    expect(await allReady({ ingest: () => ({ ready: true }) })()).toEqual({ ready: true });
  });
});
