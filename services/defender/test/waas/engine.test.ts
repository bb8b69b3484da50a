import { createSilentLogger } from '@mamori/common';
import type { Policy__Output, WebApplicationPolicy__Output } from '@mamori/proto';
import { describe, expect, it } from 'vitest';
import { createWaasEngine, hostOf, normalizedPath } from '../../src/waas/engine.js';
import { policy, webApp } from '../support/policies.js';

function webPolicy(
  id: string,
  mode: Policy__Output['mode'],
  part: WebApplicationPolicy__Output | null,
): Policy__Output {
  return policy({ id, mode, web_application: part });
}

const BROWSER = {
  'user-agent':
    'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36',
  accept: 'text/html,application/xhtml+xml',
  'accept-language': 'ja,en;q=0.8',
  'accept-encoding': 'gzip, deflate, br',
};

function get(url: string, headers: Record<string, string> = BROWSER) {
  return { method: 'GET', url, headers, body: '' };
}

const SQLI = "/search?q=1'%20UNION%20SELECT%20password%20FROM%20users--";

const OPENAPI = JSON.stringify({
  openapi: '3.0.3',
  info: { title: 'residents', version: '1' },
  paths: {
    '/api/residents/{id}': {
      get: {
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'integer' } }],
        responses: { '200': { description: 'ok' } },
      },
    },
  },
});

function engine(policies: Policy__Output[] = [], enforcePolicies = true) {
  const e = createWaasEngine({ logger: createSilentLogger(), enforcePolicies });
  e.setPolicies(policies);
  return e;
}

describe('hosts and paths of a request', () => {
  it('compares hosts without port and case', () => {
    expect(hostOf('Portal.City-A.example:8443')).toBe('portal.city-a.example');
    expect(hostOf('[::1]:8080')).toBe('[::1]');
    expect(hostOf('')).toBe('');
  });

  it('resolves dot segments and escaped unreserved characters, so no spelling moves a request elsewhere', () => {
    expect(normalizedPath('/%61pi/../api//residents/./7?x=/admin')).toBe('/api/residents/7');
    expect(normalizedPath('/a%2Fb')).toBe('/a%2Fb');
    expect(normalizedPath('')).toBe('/');
  });
});

describe('WAAS engine', () => {
  it('judges a request under the first policy by id whose hosts and paths select it, else locally', () => {
    const e = engine([
      webPolicy('b-portal', 'POLICY_MODE_BLOCK', webApp({ hosts: ['*.city-a.example'] })),
      webPolicy('a-api', 'POLICY_MODE_DETECT', webApp({ path_prefixes: ['/api'] })),
      webPolicy('runtime-only', 'POLICY_MODE_BLOCK', null),
    ]);
    expect(e.policies()).toEqual(['a-api', 'b-portal']);
    expect(e.appFor('portal.city-a.example', '/api/x').policyId).toBe('a-api');
    expect(e.appFor('PORTAL.city-a.example:443', '/home').policyId).toBe('b-portal');
    expect(e.appFor('other.example', '/apis').policyId).toBeUndefined();
    expect(e.appFor('other.example', '/%61pi/x').policyId).toBe('a-api');
  });

  it('refuses a blocking verdict under a blocking policy, and only reports it under a detecting one', () => {
    const e = engine([
      webPolicy('block', 'POLICY_MODE_BLOCK', webApp({ hosts: ['block.example'] })),
      webPolicy('detect', 'POLICY_MODE_DETECT', webApp({ hosts: ['detect.example'] })),
    ]);
    const blocked = e.judge(e.appFor('block.example', SQLI), get(SQLI), '203.0.113.9');
    expect(blocked.verdict.action).toBe('block');
    expect(blocked.refuse).toEqual({ status: 403 });
    expect(blocked.verdict.findings.map((f) => f.category)).toContain('sqli');
    const detected = e.judge(e.appFor('detect.example', SQLI), get(SQLI), '203.0.113.9');
    expect(detected.verdict.action).toBe('block');
    expect(detected.refuse).toBeUndefined();
    const clean = e.judge(
      e.appFor('block.example', '/search?q=city hall'),
      get('/search?q=city%20hall'),
      '203.0.113.9',
    );
    expect(clean).toMatchObject({ verdict: { action: 'allow', findings: [] }, refuse: undefined });
  });

  it('never refuses under pushed policies on a node that does not enforce', () => {
    const e = engine([webPolicy('block', 'POLICY_MODE_BLOCK', webApp())], false);
    const judged = e.judge(e.appFor('x', SQLI), get(SQLI), '203.0.113.9');
    expect(judged.verdict.action).toBe('block');
    expect(judged.refuse).toBeUndefined();
  });

  it('applies a policy’s exceptions and thresholds', () => {
    const e = engine([
      webPolicy(
        'cms',
        'POLICY_MODE_BLOCK',
        webApp({
          exceptions: [
            {
              location: 'query.q',
              location_prefix: '',
              path_prefix: '/search',
              categories: ['sqli'],
            },
          ],
        }),
      ),
    ]);
    expect(e.judge(e.appFor('x', SQLI), get(SQLI), '203.0.113.9').refuse).toBeUndefined();
    const elsewhere = SQLI.replace('/search', '/find');
    expect(e.judge(e.appFor('x', elsewhere), get(elsewhere), '203.0.113.9').refuse).toEqual({
      status: 403,
    });
    const lenient = engine([
      webPolicy(
        'lenient',
        'POLICY_MODE_BLOCK',
        webApp({ alert_threshold: 50, block_threshold: 100 }),
      ),
    ]);
    expect(lenient.judge(lenient.appFor('x', SQLI), get(SQLI), '203.0.113.9').verdict.action).toBe(
      'allow',
    );
  });

  it('refuses a client over its burst with 429 and Retry-After, per address', () => {
    const e = engine([
      webPolicy(
        'limited',
        'POLICY_MODE_BLOCK',
        webApp({
          rate_limits: {
            burst_requests: 3,
            burst_seconds: 2,
            average_requests: 100,
            average_seconds: 300,
            ban_seconds: 30,
            session_cookies: [],
            session_headers: [],
          },
        }),
      ),
    ]);
    const app = e.appFor('x', '/');
    const verdicts = [1, 2, 3, 4].map(() => e.judge(app, get('/'), '198.51.100.7'));
    expect(verdicts.slice(0, 3).map((v) => v.refuse)).toEqual([undefined, undefined, undefined]);
    expect(verdicts[3]!.refuse).toMatchObject({ status: 429 });
    expect(verdicts[3]!.refuse?.retryAfterSeconds).toBeGreaterThan(25);
    expect(verdicts[3]!.verdict.findings[0]).toMatchObject({ category: 'rate-limit' });
    // The first refusal is reported; the flood that follows within the ban only repeats it.
    expect(verdicts[3]!.repeat).toBe(false);
    const again = e.judge(app, get('/'), '198.51.100.7');
    expect(again).toMatchObject({ refuse: { status: 429 }, repeat: true });
    expect(e.judge(app, get('/'), '198.51.100.8').refuse).toBeUndefined();
  });

  it('reports requests an OpenAPI document does not describe, and refuses them when its mode says so', () => {
    const detect = engine([webPolicy('api', 'POLICY_MODE_BLOCK', webApp({ openapi: OPENAPI }))]);
    const ok = detect.judge(detect.appFor('x', '/api/residents/7'), get('/api/residents/7'), '::1');
    expect(ok.verdict).toMatchObject({ action: 'allow', findings: [] });
    const bad = detect.judge(
      detect.appFor('x', '/api/residents/x'),
      get('/api/residents/x'),
      '::1',
    );
    expect(bad.verdict.action).toBe('alert');
    expect(bad.verdict.findings.map((f) => f.category)).toEqual(['api-schema']);
    expect(bad.refuse).toBeUndefined();
    const block = engine([
      webPolicy(
        'api',
        'POLICY_MODE_BLOCK',
        webApp({ openapi: OPENAPI, api_mode: 'POLICY_MODE_BLOCK' }),
      ),
    ]);
    const unknown = block.judge(block.appFor('x', '/api/admin'), get('/api/admin'), '::1');
    expect(unknown.refuse).toEqual({ status: 403 });
  });

  it('keeps a policy whose OpenAPI document does not compile, without the schema', () => {
    const e = engine([
      webPolicy('broken', 'POLICY_MODE_BLOCK', webApp({ openapi: '{"openapi":' })),
    ]);
    expect(e.policies()).toEqual(['broken']);
    expect(e.judge(e.appFor('x', SQLI), get(SQLI), '::1').refuse).toEqual({ status: 403 });
  });

  it('recognises bots and blocks them only when the bot mode blocks; crawlers are only reported', () => {
    const curl = { 'user-agent': 'curl/8.5.0', accept: '*/*' };
    const detect = engine([webPolicy('p', 'POLICY_MODE_BLOCK', webApp())]);
    const seen = detect.judge(detect.appFor('x', '/'), get('/', curl), '::1');
    expect(seen.verdict.action).toBe('alert');
    expect(seen.verdict.findings.map((f) => f.category)).toContain('bot');
    const block = engine([
      webPolicy('p', 'POLICY_MODE_BLOCK', webApp({ bot_mode: 'POLICY_MODE_BLOCK' })),
    ]);
    expect(block.judge(block.appFor('x', '/'), get('/', curl), '::1').refuse).toEqual({
      status: 403,
    });
    const googlebot = {
      ...BROWSER,
      'user-agent': 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
    };
    const crawler = block.judge(block.appFor('x', '/'), get('/', googlebot), '::1');
    expect(crawler.refuse).toBeUndefined();
    expect(crawler.verdict.action).toBe('alert');
    expect(block.judge(block.appFor('x', '/'), get('/'), '::1').verdict.findings).toEqual([]);
  });

  it('leaves bots and rate limits alone where no policy applies', () => {
    const e = engine();
    expect(
      e.judge(e.appFor('x', '/'), get('/', { 'user-agent': 'curl/8.5.0' }), '::1').verdict,
    ).toEqual({
      action: 'allow',
      score: 0,
      findings: [],
    });
    expect(e.judge(e.appFor('x', SQLI), get(SQLI), '::1').refuse).toEqual({ status: 403 });
  });
});
