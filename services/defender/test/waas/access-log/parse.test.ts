import { describe, expect, it } from 'vitest';
import {
  parseAccessLogLine,
  parseAutoLine,
  parseEnvoyJsonLine,
  parseEnvoyTextLine,
  parseNginxJsonLine,
  type AccessLogEntry,
  type AccessLogParseResult,
} from '../../../src/waas/access-log/index.js';
import * as s from './samples.js';

function entryOf(result: AccessLogParseResult): AccessLogEntry {
  if ('error' in result) throw new Error(`expected an entry, got: ${result.error}`);
  return result.entry;
}

function errorOf(result: AccessLogParseResult): string {
  if ('entry' in result) throw new Error('expected an error, got an entry');
  return result.error;
}

const micros = (iso: string) => Date.parse(iso) * 1000;

describe('nginx JSON', () => {
  it('reads every variable of the documented log_format, unescaping escape=json', () => {
    expect(entryOf(parseNginxJsonLine(s.NGINX_POST))).toEqual({
      method: 'POST',
      url: '/api/login?next=%2Fhome',
      httpVersion: '1.1',
      headers: [
        ['host', 'portal.example.gov:8443'],
        ['user-agent', 'Mozilla/5.0 (X11; Linux x86_64) "quoted" \\ back'],
        ['cookie', 'session=abc; theme=dark'],
        ['authorization', '[redacted]'],
        ['content-type', 'application/json'],
      ],
      body: '{"user":"admin","note":"line1\nline2\u0001"}',
      clientAddress: '203.0.113.7',
      clientPort: 51234,
      serverName: 'portal.example.gov',
      serverPort: 8443,
      status: 401,
      bytesSent: 57,
      durationMs: 4,
      timeUnixMicros: micros('2024-05-01T12:00:00Z') + 123_000,
      tls: true,
    });
  });

  it('never keeps an authorization value, whatever the key', () => {
    const entry = entryOf(
      parseNginxJsonLine(
        '{"request":"GET / HTTP/1.1","http_authorization":"Bearer abc","http_proxy_authorization":"Basic eA=="}',
      ),
    );
    expect(entry.headers).toEqual([
      ['authorization', '[redacted]'],
      ['proxy-authorization', '[redacted]'],
    ]);
    expect(JSON.stringify(entry)).not.toMatch(/abc|eA==/);
  });

  it('splits $request around a URI with spaces, reads an IPv6 client and treats - as absent', () => {
    expect(entryOf(parseNginxJsonLine(s.NGINX_REQUEST_LINE))).toEqual({
      method: 'GET',
      url: '/files/annual report 2023.pdf',
      httpVersion: '1.1',
      headers: [
        ['user-agent', 'curl/8.5.0'],
        ['x-api-key', 'k-1'],
      ],
      body: '',
      clientAddress: '2001:db8::17',
      clientPort: 0,
      serverName: 'files.example.gov',
      serverPort: 0,
      status: 200,
      bytesSent: 1024,
      durationMs: 120,
      timeUnixMicros: micros('2024-05-01T12:00:01Z'),
      tls: false,
    });
  });

  it('keeps a percent-encoded URI as logged and unmaps an IPv4-mapped client', () => {
    const entry = entryOf(parseNginxJsonLine(s.NGINX_SQLI));
    expect(entry).toMatchObject({
      method: 'GET',
      url: '/search?q=1%27%20UNION%20SELECT%20password%20FROM%20users--',
      clientAddress: '198.51.100.4',
      serverName: 'shop.example.gov',
      headers: [
        ['user-agent', 'Mozilla/5.0'],
        ['host', 'shop.example.gov'],
      ],
      timeUnixMicros: micros('2024-05-01T12:00:02Z'),
    });
    expect(entry.tls).toBeUndefined();
  });

  it('builds the URL from $uri and $args when the request itself is not logged', () => {
    const entry = entryOf(
      parseNginxJsonLine('{"request_method":"GET","uri":"/a b","args":"x=1","status":"-"}'),
    );
    expect(entry).toMatchObject({ url: '/a b?x=1', status: 0, httpVersion: '' });
  });

  it('says what is wrong with a line it cannot read, without quoting it', () => {
    const truncated = errorOf(parseNginxJsonLine(s.NGINX_TRUNCATED));
    expect(truncated).toBe('not JSON: cut short (no closing brace)');
    expect(errorOf(parseNginxJsonLine(s.NGINX_COMBINED))).toMatch(/^not JSON/);
    expect(errorOf(parseNginxJsonLine(s.NGINX_DEFAULT_ESCAPES))).toMatch(/escape=json/);
    expect(errorOf(parseNginxJsonLine('[1,2]'))).toBe('not a JSON object');
    expect(errorOf(parseNginxJsonLine(s.NGINX_EMPTY_REQUEST))).toMatch(/^no request method/);
    expect(errorOf(parseNginxJsonLine(s.NGINX_TLS_ON_HTTP))).toBe(
      'request method is not an HTTP token',
    );
    expect(errorOf(parseNginxJsonLine('{"request_method":"GET","status":200}'))).toMatch(
      /^no request URI/,
    );
  });

  it('leaves a timestamp it cannot read undefined rather than guessing', () => {
    const at = (time: string) =>
      entryOf(parseNginxJsonLine(`{"request":"GET / HTTP/1.1",${time}}`)).timeUnixMicros;
    expect(at('"time_iso8601":"2024-05-01T12:00:00"')).toBeUndefined(); // no zone
    expect(at('"time_iso8601":"2024-02-30T12:00:00+00:00"')).toBeUndefined(); // no such day
    expect(at('"time_local":"01/Foo/2024:12:00:00 +0000"')).toBeUndefined();
    expect(at('"time_local":"10/Oct/2000:13:55:36 -0700"')).toBe(micros('2000-10-10T20:55:36Z'));
    expect(at('"msec":1714564800.5')).toBe(micros('2024-05-01T12:00:00.5Z'));
    expect(at('"time_iso8601":"2024-05-01T12:00:00.123456Z"')).toBe(
      micros('2024-05-01T12:00:00.123Z') + 456,
    );
  });
});

describe('envoy JSON', () => {
  it('reads typed values, an [IPv6]:port client and the server from authority and SNI', () => {
    expect(entryOf(parseEnvoyJsonLine(s.ENVOY_JSON))).toEqual({
      method: 'GET',
      url: '/api/v1/users?id=7',
      httpVersion: '2',
      headers: [
        ['user-agent', 'okhttp/4.12.0'],
        ['x-request-id', '5f1c6c1e-9d7a-4f5e-a0a4-6f5ffe2d0a55'],
        ['host', 'api.example.gov'],
      ],
      body: '',
      clientAddress: '2001:db8::5',
      clientPort: 40522,
      serverName: 'api.example.gov',
      serverPort: 443,
      status: 200,
      bytesSent: 512,
      durationMs: 12,
      timeUnixMicros: micros('2024-05-01T12:00:02.345Z'),
      tls: true,
    });
  });

  it('reads numbers written as strings and a port in the authority', () => {
    expect(entryOf(parseEnvoyJsonLine(s.ENVOY_JSON_STRINGS))).toMatchObject({
      method: 'PUT',
      headers: [
        ['host', 'api.example.gov:8080'],
        ['x-forwarded-for', '198.51.100.9'],
      ],
      clientAddress: '10.244.1.9',
      clientPort: 33110,
      serverName: 'api.example.gov',
      serverPort: 8080,
      status: 503,
      bytesSent: 19,
      durationMs: 3,
    });
  });

  it('needs a method and a path', () => {
    expect(errorOf(parseEnvoyJsonLine('{"path":"/x","method":null}'))).toMatch(
      /^no request method/,
    );
    expect(errorOf(parseEnvoyJsonLine('{"method":"GET"}'))).toMatch(/^no request path/);
    expect(errorOf(parseEnvoyJsonLine('{"method":"GET","pa'))).toMatch(/^not JSON/);
  });
});

describe('envoy text', () => {
  it('reads the default format', () => {
    expect(entryOf(parseEnvoyTextLine(s.ENVOY_TEXT))).toEqual({
      method: 'POST',
      url: '/api/v1/orders?dry_run=1',
      httpVersion: '1.1',
      headers: [
        ['host', 'orders.example.gov:8080'],
        ['user-agent', 'python-requests/2.31.0'],
        ['x-forwarded-for', '10.0.35.28'],
        ['x-request-id', 'cc21d9b0-cf5c-432b-8c7e-98aeb7988cd2'],
      ],
      body: '',
      clientAddress: '',
      clientPort: 0,
      serverName: 'orders.example.gov',
      serverPort: 8080,
      status: 201,
      bytesSent: 0,
      durationMs: 226,
      timeUnixMicros: micros('2024-05-01T12:00:03.456Z'),
    });
  });

  it('takes quoted "-" fields and an unquoted - as absent', () => {
    expect(entryOf(parseEnvoyTextLine(s.ENVOY_TEXT_DASHES))).toMatchObject({
      url: '/healthz',
      headers: [['host', 'svc.local']],
      status: 503,
      bytesSent: 19,
      durationMs: 0,
    });
  });

  it('keeps a quote inside a header value that no space follows', () => {
    expect(entryOf(parseEnvoyTextLine(s.ENVOY_TEXT_QUOTE_IN_UA)).headers).toEqual([
      ['host', 'app.local'],
      ['user-agent', 'sqlmap"/1.7.2'],
    ]);
  });

  it('ignores what follows the upstream host and a trailing carriage return', () => {
    expect(entryOf(parseEnvoyTextLine(`${s.ENVOY_TEXT} extra fields\r`)).status).toBe(201);
  });

  it('refuses lines of another format, cut short or without a request', () => {
    expect(errorOf(parseEnvoyTextLine(s.ENVOY_TEXT_NO_REQUEST))).toBe('no request method');
    expect(errorOf(parseEnvoyTextLine(s.ENVOY_TEXT_TRUNCATED))).toBe(
      'the user agent is not closed (cut short?)',
    );
    expect(errorOf(parseEnvoyTextLine(s.ENVOY_TEXT.slice(0, 60)))).toMatch(/cut short/);
    expect(errorOf(parseEnvoyTextLine(s.ISTIO_TEXT))).toMatch(/not a number|not envoy/);
    expect(errorOf(parseEnvoyTextLine(s.NGINX_COMBINED))).toMatch(/start time/);
  });

  it('reads a long hostile line in linear time', () => {
    // A user agent of quotes each followed by a letter: a backtracking pattern would not end.
    const ua = '"a'.repeat(200_000);
    const line = `[2024-05-01T12:00:00.000Z] "GET / HTTP/1.1" 200 - 0 0 0 - "-" "${ua}" "-" "h" "-"`;
    expect(entryOf(parseEnvoyTextLine(line)).headers[1]).toEqual(['user-agent', ua]);
  });
});

describe('format auto and by name', () => {
  it('tells nginx JSON, envoy JSON and envoy text apart line by line', () => {
    expect(entryOf(parseAutoLine(s.NGINX_POST)).url).toBe('/api/login?next=%2Fhome');
    expect(entryOf(parseAutoLine(s.ENVOY_JSON)).url).toBe('/api/v1/users?id=7');
    expect(entryOf(parseAutoLine(s.ENVOY_TEXT)).url).toBe('/api/v1/orders?dry_run=1');
    expect(errorOf(parseAutoLine('{"status":200}'))).toMatch(/^no request method/);
    expect(errorOf(parseAutoLine(s.NGINX_TRUNCATED))).toMatch(/^not JSON/);
  });

  it('parses with the parser a format names', () => {
    expect(entryOf(parseAccessLogLine(s.ENVOY_TEXT, 'envoy-text')).status).toBe(201);
    expect(errorOf(parseAccessLogLine(s.ENVOY_TEXT, 'nginx-json'))).toMatch(/^not JSON/);
  });
});
