import { describe, expect, it } from 'vitest';
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

  it('refuses --openapi for now and a paranoia level out of range, with exit 2', async () => {
    const openapi = memoryIo([clean]);
    expect(await runWaasCommand(['inspect', '--openapi', 'api.yaml'], openapi.io)).toBe(2);
    expect(openapi.err()).toMatch(/not supported yet/);
    const paranoia = memoryIo([clean]);
    expect(await runWaasCommand(['inspect', '--paranoia=7'], paranoia.io)).toBe(2);
    expect(paranoia.err()).toMatch(/--paranoia must be 1, 2, 3 or 4/);
  });
});
