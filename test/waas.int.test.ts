import { randomBytes } from 'node:crypto';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { graphql } from './support/graphql.js';
import { killHard, spawnMamori, terminate } from './support/processes.js';

const TENANT = 'city-a';

interface AlertNode {
  ruleId: string;
  title: string;
  eventId: string;
  severity: string;
}

async function alerts(apiPort: number, token: string): Promise<AlertNode[]> {
  const data = await graphql<{ alerts: { edges: { node: AlertNode }[] } }>(
    apiPort,
    token,
    '{ alerts(first: 100) { edges { node { ruleId title eventId severity } } } }',
  );
  return data.alerts.edges.map((e) => e.node);
}

interface HttpEventNode {
  id: string;
  labels: Record<string, string>;
  payload: { url?: string };
}

/** The tenant's http_request events, by id. */
async function httpEvents(apiPort: number, token: string): Promise<Map<string, HttpEventNode>> {
  const data = await graphql<{ events: { edges: { node: HttpEventNode }[] } }>(
    apiPort,
    token,
    'query ($filter: EventFilter) { events(first: 500, filter: $filter) { edges { node { id labels payload } } } }',
    { filter: { kinds: ['HTTP_REQUEST'] } },
  );
  return new Map(data.events.edges.map((e) => [e.node.id, e.node]));
}

/** The application behind the proxy: answers every request with 200 and what it was asked. */
async function application(): Promise<{ url: string; seen: string[] }> {
  const seen: string[] = [];
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      seen.push(req.url ?? '');
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(`hello ${req.url ?? ''}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

const BROWSER = {
  'user-agent': 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0',
  accept: 'text/html,application/xhtml+xml',
  'accept-language': 'ja,en;q=0.5',
};

describe('web application protection through the platform', () => {
  it('blocks an attack at the proxy and shows it as an alert; a detect-mode policy pushed through GraphQL lets it through and alerts; an access log line alerts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mamori-waas-e2e-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const token = () => randomBytes(24).toString('base64url');
    const webToken = token();
    const nodeToken = token();
    const adminToken = token();
    const platform = await spawnMamori('start', {
      MAMORI_DATA_DIR: join(dir, 'platform'),
      MAMORI_INGEST_TOKENS: JSON.stringify([
        { token: webToken, tenant: TENANT, agentId: 'web-1' },
        { token: nodeToken, tenant: TENANT, agentId: 'node-1' },
      ]),
      MAMORI_API_TOKENS: JSON.stringify([
        { token: adminToken, tenant: TENANT, role: 'admin', name: 'admin' },
      ]),
    });
    onTestFinished(() => killHard(platform.child));
    const api = platform.apiPort!;
    const app = await application();

    // The inline proxy: a defender agent of its own.
    const proxy = await spawnMamori(
      'defender waas',
      {
        MAMORI_DATA_DIR: join(dir, 'web'),
        MAMORI_DEFENDER_INGEST: `127.0.0.1:${platform.port}`,
        MAMORI_DEFENDER_TOKEN: webToken,
        MAMORI_DEFENDER_AGENT_ID: 'web-1',
        MAMORI_DEFENDER_BATCH_MS: '50',
      },
      ['--listen', '127.0.0.1:0', '--upstream', app.url, '--sample-clean', '0'],
    );
    onTestFinished(() => killHard(proxy.child));
    const base = `http://127.0.0.1:${proxy.port}`;

    // Out of band: the node's agent reads an nginx JSON access log.
    const accessLog = join(dir, 'access.json');
    writeFileSync(accessLog, '');
    const node = await spawnMamori('defender', {
      MAMORI_DATA_DIR: join(dir, 'node'),
      MAMORI_DEFENDER_INGEST: `127.0.0.1:${platform.port}`,
      MAMORI_DEFENDER_TOKEN: nodeToken,
      MAMORI_DEFENDER_AGENT_ID: 'node-1',
      MAMORI_DEFENDER_SENSORS: 'access-log',
      MAMORI_DEFENDER_ACCESS_LOGS: `nginx-json=${accessLog}`,
      MAMORI_DEFENDER_BATCH_MS: '50',
    });
    onTestFinished(() => killHard(node.child));

    const clean = await fetch(`${base}/residents?name=${encodeURIComponent('山田 太郎')}`, {
      headers: BROWSER,
    });
    expect(clean.status).toBe(200);
    const attack = '/residents?name=x%27%20UNION%20SELECT%20password%20FROM%20users--';
    const blocked = await fetch(`${base}${attack}`, { headers: BROWSER });
    expect(blocked.status).toBe(403);
    const eventId = blocked.headers.get('x-mamori-event-id');
    expect(eventId).toBeTruthy();
    expect(app.seen).not.toContain(attack);

    await expect
      .poll(
        async () =>
          (await alerts(api, adminToken))
            .filter((a) => a.ruleId === 'mamori:Web request blocked')
            .map((a) => a.eventId),
        { timeout: 60_000, interval: 500 },
      )
      .toContain(eventId);
    const blockedEvent = (await httpEvents(api, adminToken)).get(eventId!);
    expect(blockedEvent?.labels).toMatchObject({
      sensor: 'waas',
      'waas.action': 'block',
      'waas.enforced': 'true',
    });
    expect(blockedEvent?.labels['waas.categories']?.split(',')).toContain('sqli');
    expect(blockedEvent?.payload.url).toBe(attack);

    // A detect-mode policy for the legacy application, through GraphQL: pushed to the agent,
    // it lets the attack through and the alert says it was not blocked.
    await graphql(
      api,
      adminToken,
      'mutation ($input: PolicyInput!) { upsertPolicy(input: $input) { id } }',
      {
        input: {
          id: 'legacy-portal',
          name: 'Legacy portal, watched only',
          mode: 'DETECT',
          webApplication: { pathPrefixes: ['/legacy'] },
        },
      },
    );
    const legacyAttack = '/legacy/search?q=%3Cscript%3Ealert(document.cookie)%3C/script%3E';
    await expect
      .poll(async () => (await fetch(`${base}${legacyAttack}`, { headers: BROWSER })).status, {
        timeout: 60_000,
        interval: 500,
      })
      .toBe(200);
    expect(app.seen).toContain(legacyAttack);
    // Still blocked elsewhere: the policy selects /legacy only.
    expect((await fetch(`${base}${attack}`, { headers: BROWSER })).status).toBe(403);

    appendFileSync(
      accessLog,
      `${JSON.stringify({
        time_iso8601: new Date().toISOString(),
        remote_addr: '198.51.100.23',
        request_method: 'GET',
        request_uri: '/download?file=..%2F..%2F..%2Fetc%2Fpasswd',
        server_protocol: 'HTTP/1.1',
        status: 200,
        body_bytes_sent: 1024,
        http_host: 'files.city-a.example',
        http_user_agent: BROWSER['user-agent'],
      })}\n`,
    );

    await expect
      .poll(
        async () => {
          const notBlocked = (await alerts(api, adminToken)).filter(
            (a) => a.ruleId === 'mamori:Web attack not blocked',
          );
          const byId = await httpEvents(api, adminToken);
          return notBlocked.map((a) => byId.get(a.eventId)?.payload.url ?? '');
        },
        { timeout: 60_000, interval: 500 },
      )
      .toEqual(
        expect.arrayContaining([legacyAttack, '/download?file=..%2F..%2F..%2Fetc%2Fpasswd']),
      );

    expect(await terminate(proxy.child)).toBe(0);
    expect(await terminate(node.child)).toBe(0);
  }, 300_000);
});
