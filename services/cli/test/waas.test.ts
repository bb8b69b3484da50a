import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runWaasCommand, type WaasIo } from '../src/waas.js';

/** Stdin from lines in memory, and what the command wrote. */
function memoryIo(lines: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const io: WaasIo = {
    lines: async function* () {
      await Promise.resolve();
      yield* lines;
    },
    out: (text) => void out.push(text),
    err: (text) => void err.push(text),
  };
  return {
    io,
    verdicts: () =>
      out
        .join('')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    err: () => err.join(''),
  };
}

const clean = JSON.stringify({ method: 'GET', url: '/search?q=shoes', headers: {} });
const ssrf = JSON.stringify({
  method: 'GET',
  url: '/fetch?url=http%3A%2F%2F169.254.169.254%2Flatest',
  headers: { 'User-Agent': 'curl/8' },
});

describe('mamori waas inspect', () => {
  it('writes one verdict a line, and an error for a bad line without stopping', async () => {
    const { io, verdicts } = memoryIo([clean, 'not json', '', '{"method":"GET"}', ssrf]);
    const code = await runWaasCommand(['inspect'], io);
    expect(code).toBe(1);
    expect(verdicts()).toEqual([
      { action: 'allow', score: 0, findings: [] },
      { error: expect.stringMatching(/^line 2: not JSON/) },
      { error: 'line 4: url: missing or not a string' },
      {
        action: 'block',
        score: 6,
        findings: [expect.objectContaining({ category: 'ssrf', location: 'query.url' })],
      },
    ]);
  });

  it('exits 0 when every line is a request', async () => {
    const { io } = memoryIo([clean]);
    expect(await runWaasCommand(['inspect', '--paranoia', '2'], io)).toBe(0);
  });

  it('refuses a paranoia level out of range, with exit 2', async () => {
    const paranoia = memoryIo([clean]);
    expect(await runWaasCommand(['inspect', '--paranoia=7'], paranoia.io)).toBe(2);
    expect(paranoia.err()).toMatch(/--paranoia must be 1, 2, 3 or 4/);
  });
});

describe('mamori waas inspect --openapi', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mamori-waas-openapi-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const spec = join(dir, 'api.yaml');
  writeFileSync(
    spec,
    [
      'openapi: 3.0.3',
      'info: { title: t, version: "1" }',
      'paths:',
      '  /search:',
      '    get:',
      '      parameters:',
      '        - { name: q, in: query, required: true, schema: { type: string, maxLength: 20 } }',
      '        - { name: limit, in: query, schema: { type: integer, maximum: 100 } }',
      '      responses: { "200": { description: ok } }',
      '  /fetch:',
      '    get:',
      '      parameters: [{ name: url, in: query, schema: { type: string } }]',
      '      responses: { "200": { description: ok } }',
    ].join('\n'),
  );

  it('adds the schema findings to each verdict and scores them with the others', async () => {
    const lines = [
      clean,
      JSON.stringify({ method: 'GET', url: '/search?q=shoes&limit=500' }),
      JSON.stringify({ method: 'GET', url: '/admin' }),
      ssrf,
      JSON.stringify({ method: 'GET', url: '/search?limit=x' }),
    ];
    const { io, verdicts } = memoryIo(lines);
    expect(await runWaasCommand(['inspect', `--openapi=${spec}`], io)).toBe(0);
    expect(verdicts()).toEqual([
      { action: 'allow', score: 0, findings: [] },
      {
        action: 'alert',
        score: 3.5,
        findings: [
          {
            category: 'api-schema',
            location: 'query.limit',
            evidence: '500',
            confidence: 1,
            reason: 'query.limit: expected integer ≤ 100',
          },
        ],
      },
      {
        action: 'alert',
        score: 3.5,
        findings: [expect.objectContaining({ location: 'path', reason: 'unknown path' })],
      },
      {
        action: 'block',
        score: 6,
        findings: [expect.objectContaining({ category: 'ssrf', location: 'query.url' })],
      },
      {
        action: 'block',
        score: 7,
        findings: [
          expect.objectContaining({ reason: 'query.q: required parameter missing' }),
          expect.objectContaining({ reason: 'query.limit: expected integer' }),
        ],
      },
    ]);
  });

  it('exits 2 naming the file and the JSON path when the spec does not load', async () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(
      bad,
      JSON.stringify({
        openapi: '3.0.0',
        paths: { '/a': { get: { parameters: [{ name: 'x', in: 'body' }] } } },
      }),
    );
    const broken = memoryIo([clean]);
    expect(await runWaasCommand(['inspect', '--openapi', bad], broken.io)).toBe(2);
    expect(broken.err()).toBe(
      `--openapi ${bad}: paths["/a"].get.parameters[0].in: must be path, query, header or cookie\n`,
    );
    const missing = memoryIo([clean]);
    const nowhere = join(dir, 'nowhere.yaml');
    expect(await runWaasCommand(['inspect', '--openapi', nowhere], missing.io)).toBe(2);
    expect(missing.err()).toMatch(new RegExp(`^--openapi ${nowhere}: ENOENT`));
  });
});

describe('mamori waas discover', () => {
  it('writes the endpoints the requests show as one OpenAPI document, skipping failed requests and bad lines', async () => {
    const lines = [
      ...[7, 12, 31].map((id) =>
        JSON.stringify({ method: 'GET', url: `/api/residents/${id}?fields=name`, status: 200 }),
      ),
      JSON.stringify({
        method: 'POST',
        url: '/api/residents',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: '山田 太郎', ward: 'Naka', age: 41 }),
        status: 201,
      }),
      JSON.stringify({ method: 'GET', url: '/wp-login.php', status: 404 }),
      'not json',
    ];
    const { io, err } = memoryIo(lines);
    const out: string[] = [];
    const code = await runWaasCommand(['discover', '--title', 'Residents'], {
      ...io,
      out: (text) => void out.push(text),
    });
    expect(code).toBe(1);
    expect(err()).toMatch(/^line 6: not JSON/);
    const doc = JSON.parse(out.join('')) as {
      openapi: string;
      info: { title: string };
      paths: Record<string, Record<string, unknown>>;
    };
    expect(doc.openapi).toBe('3.0.3');
    expect(doc.info.title).toBe('Residents');
    expect(Object.keys(doc.paths).sort()).toEqual(['/api/residents', '/api/residents/{id}']);
    expect(Object.keys(doc.paths['/api/residents']!)).toEqual(['post']);
    expect(Object.keys(doc.paths['/api/residents/{id}']!)).toContain('get');
  });

  it('refuses an unknown option', async () => {
    const { io, err } = memoryIo([]);
    expect(await runWaasCommand(['discover', '--nope'], io)).toBe(2);
    expect(err()).toMatch(/unknown option --nope/);
  });
});
