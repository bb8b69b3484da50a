import { createInspector } from '@mamori/waas';
import { describe, expect, it } from 'vitest';
import {
  entryToRequest,
  entryToSeen,
  parseNginxJsonLine,
  type AccessLogEntry,
} from '../../../src/waas/access-log/index.js';
import { toHttpEvent } from '../../../src/waas/event.js';
import * as s from './samples.js';

function entry(line: string): AccessLogEntry {
  const result = parseNginxJsonLine(line);
  if ('error' in result) throw new Error(result.error);
  return result.entry;
}

describe('entryToRequest', () => {
  it("gives the inspector the logged body and headers, so a body's injection is found", () => {
    const logged = entry(
      String.raw`{"request":"POST /api/search HTTP/1.1","content_type":"application/json","request_body":"{\"q\":\"1' UNION SELECT password FROM users--\"}"}`,
    );
    const request = entryToRequest(logged);
    expect(request).toEqual({
      method: 'POST',
      url: '/api/search',
      headers: { 'content-type': 'application/json' },
      body: `{"q":"1' UNION SELECT password FROM users--"}`,
    });
    const verdict = createInspector().inspect(request);
    expect(verdict.action).toBe('block');
    expect(verdict.findings.map((f) => f.location)).toContain('body.q');
  });

  it('gives a header logged twice as an array, and a header named __proto__ as a header', () => {
    const request = entryToRequest({
      ...entry('{"request":"GET / HTTP/1.1"}'),
      headers: [
        ['x-a', '1'],
        ['x-a', '2'],
        ['__proto__', 'p'],
      ],
    });
    expect(request.headers['x-a']).toEqual(['1', '2']);
    expect(Object.hasOwn(request.headers, '__proto__')).toBe(true);
    expect(Object.getPrototypeOf(request.headers)).toBe(Object.prototype);
  });
});

describe('entryToSeen', () => {
  it('gives toHttpEvent what the proxy would have seen, credentials redacted', () => {
    const logged = entry(s.NGINX_POST);
    const event = toHttpEvent(
      'al-1',
      entryToSeen(logged),
      { action: 'allow', score: 0, findings: [] },
      logged.timeUnixMicros!,
    );
    expect(event.observed_unix_micros).toBe(logged.timeUnixMicros);
    expect(event.http_request).toMatchObject({
      method: 'POST',
      url: '/api/login?next=%2Fhome',
      http_version: '1.1',
      body_size: Buffer.byteLength(logged.body),
      client_address: '203.0.113.7',
      client_port: 51234,
      server_name: 'portal.example.gov',
      server_port: 8443,
      tls: true,
    });
    expect(event.http_request?.headers).toContainEqual({
      name: 'authorization',
      value: '[redacted]',
    });
    expect(Buffer.from(event.http_request!.body!).toString('utf8')).toBe(logged.body);
  });

  it('takes a logged Content-Length larger than the logged body as the body size', () => {
    const seen = entryToSeen(
      entry('{"request":"POST /u HTTP/1.1","http_content_length":"1048576","request_body":"-"}'),
    );
    expect(seen).toMatchObject({ bodySize: 1048576, tls: false });
    expect(seen.body.length).toBe(0);
  });
});
