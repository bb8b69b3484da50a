import { brotliCompressSync, deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decodeContent } from '../src/content-encoding.js';
import { createInspector } from '../src/inspect.js';

const form = 'application/x-www-form-urlencoded';

function compressed(encoding: string, bytes: Buffer, contentType = form) {
  return {
    method: 'POST',
    url: '/comments',
    headers: { 'content-type': contentType, 'content-encoding': encoding },
    body: bytes.toString('base64'),
    bodyEncoding: 'base64' as const,
  };
}

describe('compressed request bodies', () => {
  const inspector = createInspector();
  const attack = Buffer.from(`text=${encodeURIComponent("x' or sleep(5)#")}&page=2`);

  it.each([
    ['gzip', gzipSync(attack)],
    ['x-gzip', gzipSync(attack)],
    ['deflate', deflateSync(attack)],
    ['deflate', deflateRawSync(attack)],
    ['br', brotliCompressSync(attack)],
    [' GZIP ', gzipSync(attack)],
  ])('inspects a %s body inflated, as the framework hands it on', (encoding, bytes) => {
    expect(inspector.inspect(compressed(encoding, bytes))).toMatchObject({
      action: 'block',
      findings: [{ category: 'sqli', location: 'body.text' }],
    });
  });

  it('leaves a compressed body of ordinary text alone', () => {
    const json = Buffer.from(
      JSON.stringify({ comment: "O'Brien's café: select the best or the worst" }),
    );
    expect(inspector.inspect(compressed('gzip', gzipSync(json), 'application/json')).action).toBe(
      'allow',
    );
  });

  it('reads a body that is not what its Content-Encoding says as it came', () => {
    const request = {
      method: 'POST',
      url: '/',
      headers: { 'content-type': form, 'content-encoding': 'gzip' },
      body: `text=${encodeURIComponent('<svg onload=alert(1)>')}`,
    };
    expect(inspector.inspect(request).action).toBe('block');
  });

  it('inflates at most the inspection limit, finds a payload at its start, and says it stopped', () => {
    const big = Buffer.concat([
      Buffer.from(`text=${encodeURIComponent('<img src=x onerror=alert(1)>')}&pad=`),
      Buffer.alloc(5_000_000, 0x61),
    ]);
    const decoded = decodeContent(gzipSync(big), 'gzip', 64 * 1024);
    expect(decoded?.truncated).toBe(true);
    expect(decoded?.bytes.length).toBeLessThanOrEqual(64 * 1024);
    const reporting = createInspector({ bodyLimit: 64 * 1024, reportUninspected: true });
    const verdict = reporting.inspect(compressed('gzip', gzipSync(big)));
    expect(verdict.action).toBe('block');
    expect(verdict.findings.map((f) => f.category).sort()).toEqual(['protocol', 'xss']);
  });

  it('ignores identity and codings it does not know', () => {
    expect(decodeContent(Buffer.from('a=1'), 'identity', 1024)).toBeUndefined();
    expect(decodeContent(Buffer.from('a=1'), 'compress', 1024)).toBeUndefined();
  });
});
