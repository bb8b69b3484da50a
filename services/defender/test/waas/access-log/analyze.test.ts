import { createSilentLogger } from '@mamori/common';
import { describe, expect, it } from 'vitest';
import { createAccessLogAnalyzer, parseNginxJsonLine } from '../../../src/waas/access-log/index.js';
import { createWaasEngine } from '../../../src/waas/engine.js';
import { policy, webApp } from '../../support/policies.js';
import { NGINX_REQUEST_LINE, NGINX_SQLI } from './samples.js';

function entry(line: string) {
  const parsed = parseNginxJsonLine(line);
  if ('error' in parsed) throw new Error(parsed.error);
  return parsed.entry;
}

const shop = policy({
  id: 'shop',
  mode: 'POLICY_MODE_BLOCK',
  web_application: webApp({ hosts: ['shop.example.gov'] }),
});

describe('access-log analysis', () => {
  it('judges a logged request under the policy of its host, never as enforced, at the time it was made', () => {
    const engine = createWaasEngine({ logger: createSilentLogger() });
    engine.setPolicies([shop]);
    const event = createAccessLogAnalyzer(engine)(entry(NGINX_SQLI));
    expect(event?.labels).toMatchObject({
      sensor: 'access-log',
      'waas.action': 'block',
      'waas.policy': 'shop',
    });
    expect(event?.labels?.['waas.enforced']).toBeUndefined();
    expect(event?.labels?.['waas.categories']?.split(',')).toContain('sqli');
    expect(event?.observed_unix_micros).toBe(Date.parse('2024-05-01T12:00:02Z') * 1000);
    expect(event?.http_request).toMatchObject({
      method: 'GET',
      url: '/search?q=1%27%20UNION%20SELECT%20password%20FROM%20users--',
      server_name: 'shop.example.gov',
    });
  });

  it('reports a clean request only when drawn as a sample, under the local settings elsewhere', () => {
    const quiet = createWaasEngine({ logger: createSilentLogger(), local: { sampleClean: 0 } });
    expect(createAccessLogAnalyzer(quiet)(entry(NGINX_REQUEST_LINE))).toBeUndefined();
    const sampling = createWaasEngine({
      logger: createSilentLogger(),
      local: { sampleClean: 0.5 },
    });
    const event = createAccessLogAnalyzer(sampling, () => 0.1)(entry(NGINX_REQUEST_LINE));
    expect(event?.labels).toMatchObject({ 'waas.action': 'allow', 'waas.sampled': 'true' });
    expect(event?.labels?.['waas.policy']).toBeUndefined();
  });
});
