import { once } from 'node:events';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { Event } from '@mamori/proto';
import { createSilentLogger } from '@mamori/common';
import { parseWaasProxyArgs } from '../../src/waas/command.js';
import { createWaasEngine } from '../../src/waas/engine.js';
import { createWaasProxy, EVENT_ID_HEADER, type WaasProxyOptions } from '../../src/waas/proxy.js';
import { policy, webApp } from '../support/policies.js';

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  remotePort: number;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

/** An application that records each request and echoes its body (or its URL) back. */
async function upstream(): Promise<{ url: string; seen: Seen[]; port: number }> {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      seen.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body,
        remotePort: req.socket.remotePort ?? 0,
      });
      res.setHeader('x-app', 'demo');
      res.setHeader('set-cookie', ['a=1', 'b=2']);
      res.writeHead(req.url === '/created' ? 201 : 200, { 'content-type': 'text/plain' });
      res.end(body.length > 0 ? body : Buffer.from(`hello ${req.url ?? ''}`));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanups.push(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, seen, port };
}

async function proxy(
  upstreamUrl: string,
  options: Partial<WaasProxyOptions> = {},
): Promise<{ base: string; events: Event[] }> {
  const events: Event[] = [];
  const p = createWaasProxy({
    listen: { host: '127.0.0.1', port: 0 },
    upstream: upstreamUrl,
    emit: (e) => events.push(e),
    ...options,
    local: { sampleClean: 0, ...options.local },
  });
  const { port } = await p.start();
  cleanups.push(() => p.stop());
  return { base: `http://127.0.0.1:${port}`, events };
}

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

function send(
  url: string,
  init: {
    method?: string;
    headers?: http.OutgoingHttpHeaders;
    body?: Buffer[];
    agent?: http.Agent;
  },
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method: init.method ?? 'GET', headers: init.headers, agent: init.agent ?? false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    const parts = init.body ?? [];
    // Written a part at a time, a tick apart: the proxy sees a body arrive in pieces.
    const write = (i: number): void => {
      if (i >= parts.length) {
        req.end();
        return;
      }
      req.write(parts[i]);
      setImmediate(() => write(i + 1));
    };
    write(0);
  });
}

describe('waas proxy', () => {
  it('passes a clean GET through unchanged and adds x-forwarded headers', async () => {
    const app = await upstream();
    const { base, events } = await proxy(app.url);
    const direct = await send(`${app.url}/items?id=42&sort=name`, {});
    const proxied = await send(`${base}/items?id=42&sort=name`, {
      headers: { 'x-request': 'abc', 'x-forwarded-for': '10.0.0.9' },
    });
    expect(proxied.status).toBe(200);
    expect(proxied.body.equals(direct.body)).toBe(true);
    expect(proxied.headers['x-app']).toBe('demo');
    expect(proxied.headers['set-cookie']).toEqual(['a=1', 'b=2']);
    expect(proxied.headers['content-type']).toBe('text/plain');
    const got = app.seen[1]!;
    expect(got.url).toBe('/items?id=42&sort=name');
    expect(got.headers['x-request']).toBe('abc');
    expect(got.headers['x-forwarded-for']).toBe('10.0.0.9, 127.0.0.1');
    expect(got.headers['x-forwarded-proto']).toBe('http');
    expect(got.headers['x-forwarded-host']).toBe(new URL(base).host);
    expect(events).toHaveLength(0);
  });

  it('streams a POST body longer than the inspection limit to the upstream byte for byte', async () => {
    const app = await upstream();
    const { base } = await proxy(app.url, { local: { bodyLimitBytes: 1024 } });
    const parts = Array.from({ length: 64 }, (_, i) => Buffer.alloc(4096, 97 + (i % 26)));
    const whole = Buffer.concat(parts);
    const reply = await send(`${base}/created`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: parts,
    });
    expect(reply.status).toBe(201);
    expect(app.seen[0]!.body.equals(whole)).toBe(true);
    expect(reply.body.equals(whole)).toBe(true);
  });

  it('strips hop-by-hop headers, including those the Connection header names', async () => {
    const app = await upstream();
    const { base } = await proxy(app.url);
    await send(`${base}/`, {
      headers: {
        connection: 'keep-alive, x-secret-hop',
        'x-secret-hop': '1',
        'proxy-authorization': 'x',
      },
    });
    const got = app.seen[0]!.headers;
    expect(got['x-secret-hop']).toBeUndefined();
    expect(got['proxy-authorization']).toBeUndefined();
  });

  it('reuses kept-alive connections on both sides', async () => {
    const app = await upstream();
    const { base } = await proxy(app.url);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    cleanups.push(() => Promise.resolve(agent.destroy()));
    const ports = new Set<number>();
    for (let i = 0; i < 5; i++) {
      const reply = await send(`${base}/k${i}`, { agent });
      expect(reply.status).toBe(200);
    }
    for (const s of app.seen) ports.add(s.remotePort);
    // One upstream connection carried all five requests.
    expect(ports.size).toBe(1);
    expect(app.seen).toHaveLength(5);
  });

  it('answers an injection in the query 403 with an event id the upstream never sees', async () => {
    const app = await upstream();
    const { base, events } = await proxy(app.url);
    const reply = await send(`${base}/items?q=${encodeURIComponent("1' or '1'='1")}`, {});
    expect(reply.status).toBe(403);
    const body = JSON.parse(reply.body.toString()) as { blocked: boolean; eventId: string };
    expect(body.blocked).toBe(true);
    expect(body.eventId).toMatch(/^waas-/);
    expect(reply.headers[EVENT_ID_HEADER]).toBe(body.eventId);
    expect(app.seen).toHaveLength(0);
    expect(events).toHaveLength(1);
    const event = events[0]!;
    expect(event.id).toBe(body.eventId);
    expect(event.labels?.['waas.action']).toBe('block');
    expect(event.labels?.['waas.categories']).toContain('sqli');
    expect(Number(event.labels?.['waas.score'])).toBeGreaterThan(0);
    expect(event.http_request?.url).toContain('/items?q=');
    expect(event.http_request?.method).toBe('GET');
  });

  it('blocks an injection in a JSON body and keeps serving the connection', async () => {
    const app = await upstream();
    const { base, events } = await proxy(app.url);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    cleanups.push(() => Promise.resolve(agent.destroy()));
    const attack = Buffer.from(JSON.stringify({ name: "x' UNION SELECT password FROM users--" }));
    const reply = await send(`${base}/users`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer secret' },
      body: [attack],
      agent,
    });
    expect(reply.status).toBe(403);
    expect(app.seen).toHaveLength(0);
    const event = events[0]!;
    expect(Buffer.from(event.http_request!.body as Buffer).equals(attack)).toBe(true);
    expect(event.http_request?.headers).toContainEqual({
      name: 'authorization',
      value: '[redacted]',
    });
    expect((await send(`${base}/after`, { agent })).status).toBe(200);
  });

  it('answers 502 when the upstream is unreachable', async () => {
    const app = await upstream();
    const dead = app.url.replace(`:${app.port}`, ':1');
    const { base } = await proxy(dead);
    const reply = await send(`${base}/`, {});
    expect(reply.status).toBe(502);
  });

  it('emits a sample of clean requests, marked as such', async () => {
    const app = await upstream();
    const { base, events } = await proxy(app.url, {
      local: { sampleClean: 0.5 },
      random: () => 0.1,
    });
    expect((await send(`${base}/ok`, {})).status).toBe(200);
    expect(events).toHaveLength(1);
    expect(events[0]!.labels).toMatchObject({ 'waas.action': 'allow', 'waas.sampled': 'true' });
  });
});

describe('waas proxy under pushed web application policies', () => {
  it('answers 429 with Retry-After past a rate limit, and reports blocks and detect-mode verdicts with their policy', async () => {
    const app = await upstream();
    const engine = createWaasEngine({ logger: createSilentLogger() });
    engine.setPolicies([
      policy({
        id: 'api',
        mode: 'POLICY_MODE_BLOCK',
        web_application: webApp({
          path_prefixes: ['/api'],
          rate_limits: {
            burst_requests: 2,
            burst_seconds: 2,
            average_requests: 100,
            average_seconds: 300,
            ban_seconds: 20,
            session_cookies: [],
            session_headers: [],
          },
        }),
      }),
      policy({
        id: 'legacy',
        mode: 'POLICY_MODE_DETECT',
        web_application: webApp({ path_prefixes: ['/legacy'] }),
      }),
    ]);
    const { base: url, events } = await proxy(app.url, { engine });
    const browser = {
      'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0',
      accept: '*/*',
      'accept-language': 'ja',
    };
    expect((await send(`${url}/api/a`, { headers: browser })).status).toBe(200);
    expect((await send(`${url}/api/a`, { headers: browser })).status).toBe(200);
    const limited = await send(`${url}/api/a`, { headers: browser });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(15);
    const limitedEvent = events.find((e) => e.id === limited.headers[EVENT_ID_HEADER]);
    const eventsBefore = events.length;
    expect((await send(`${url}/api/a`, { headers: browser })).status).toBe(429);
    expect(events).toHaveLength(eventsBefore);
    expect(limitedEvent?.labels).toMatchObject({
      'waas.action': 'block',
      'waas.enforced': 'true',
      'waas.policy': 'api',
      'waas.categories': 'rate-limit',
    });
    // Detect mode: the attack reaches the application, and the event says it would be blocked.
    const attack = await send(`${url}/legacy?id=1%27%20OR%20%271%27=%271`, { headers: browser });
    expect(attack.status).toBe(200);
    expect(app.seen.at(-1)?.url).toBe('/legacy?id=1%27%20OR%20%271%27=%271');
    expect(events.at(-1)?.labels).toMatchObject({
      'waas.action': 'block',
      'waas.policy': 'legacy',
    });
    expect(events.at(-1)?.labels?.['waas.enforced']).toBeUndefined();
    expect(events.at(-1)?.labels?.['waas.reason']).toBeTruthy();
  });
});

describe('mamori defender waas arguments', () => {
  it('reads listen, upstream and the inspection options', () => {
    expect(
      parseWaasProxyArgs([
        '--listen',
        '127.0.0.1:8081',
        '--upstream',
        'http://127.0.0.1:3000',
        '--paranoia',
        '2',
      ]),
    ).toMatchObject({
      listen: { host: '127.0.0.1', port: 8081 },
      local: { paranoia: 2, mode: 'block', bodyLimitBytes: 131072, sampleClean: 0.01 },
      standalone: false,
    });
  });

  it('names every wrong argument at once', () => {
    const parsed = parseWaasProxyArgs([
      '--listen',
      'nowhere',
      '--upstream',
      'ftp://x',
      '--paranoia',
      '9',
    ]);
    expect(parsed).toEqual({
      errors: [
        '--listen: expected HOST:PORT',
        '--upstream: expected an http:// or https:// URL',
        '--paranoia: expected 1, 2, 3 or 4',
      ],
    });
  });
});
