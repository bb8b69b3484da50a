import { describe, expect, it } from 'vitest';
import { MATCH, UNSURE, compileSubstrings, type Needle } from '../../src/falco/substrings.js';
import { buildEvent } from '../support/events.js';
import { compileOne } from './support.js';

/** A small deterministic generator (mulberry32), so that a failure can be replayed. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Few letters, so that needles occur often, in both cases; and, now and then, characters whose
// lower case is special (İ lower-cases to two code units, the Kelvin sign to an ASCII k).
const ASCII = ['a', 'b', 'A', 'B', 'k', 'K', '-', ' '];
const OTHER = ['é', 'İ', '\u212a'];

function text(rnd: () => number, max: number): string {
  let s = '';
  const n = Math.floor(rnd() * (max + 1));
  const other = rnd() < 0.1;
  for (let i = 0; i < n; i++) {
    s +=
      other && rnd() < 0.3
        ? (OTHER[Math.floor(rnd() * OTHER.length)] as string)
        : (ASCII[Math.floor(rnd() * ASCII.length)] as string);
  }
  return s;
}

function naive(value: string, needles: readonly Needle[]): boolean {
  return needles.some((n) =>
    n.ignoreCase ? value.toLowerCase().includes(n.text.toLowerCase()) : value.includes(n.text),
  );
}

/** What a caller of the scanner concludes: the plain checks decide when it is unsure. */
function scanned(value: string, needles: readonly Needle[], pieces = [value]): boolean {
  const { step, matchesAnything } = compileSubstrings(needles);
  let state = 0;
  for (const p of pieces) if (state >= 0) state = step(state, p);
  if (matchesAnything || state === MATCH) return true;
  if (state >= 0) return false;
  expect(state).toBe(UNSURE);
  return naive(value, needles);
}

function split(rnd: () => number, value: string): string[] {
  const pieces: string[] = [];
  let i = 0;
  while (i < value.length) {
    const n = 1 + Math.floor(rnd() * 4);
    pieces.push(value.slice(i, i + n));
    i += n;
  }
  return pieces;
}

describe('compileSubstrings', () => {
  it('agrees with includes and toLowerCase().includes on random text and needles', () => {
    const rnd = random(20251128);
    for (let round = 0; round < 3000; round++) {
      const needles: Needle[] = [];
      const count = 1 + Math.floor(rnd() * 5);
      for (let i = 0; i < count; i++) needles.push({ text: text(rnd, 4), ignoreCase: rnd() < 0.5 });
      for (let k = 0; k < 5; k++) {
        const value = text(rnd, 24);
        const expected = naive(value, needles);
        expect(scanned(value, needles), JSON.stringify({ value, needles })).toBe(expected);
        // Fed in pieces, the state carries across them.
        expect(scanned(value, needles, split(rnd, value))).toBe(expected);
      }
    }
  });

  it('is sure on ASCII text: no needle, or an icontains needle, decides without the plain checks', () => {
    const needles = [
      { text: 'stratum+tcp://', ignoreCase: true },
      { text: '--donate-level', ignoreCase: false },
    ];
    const { step } = compileSubstrings(needles);
    expect(step(0, 'xmrig -o STRATUM+TCP://pool:3333')).toBe(MATCH);
    expect(step(0, 'nginx -g daemon off;')).toBeGreaterThanOrEqual(0);
    // A contains needle found up to case, or text other than ASCII: the plain checks decide.
    expect(step(0, 'xmrig --DONATE-level 1')).toBe(UNSURE);
    expect(step(0, 'xmrig --donate-level 1')).toBe(UNSURE);
    expect(step(0, 'café')).toBe(UNSURE);
  });

  it('matches anything when a needle is empty', () => {
    expect(compileSubstrings([{ text: '', ignoreCase: false }]).matchesAnything).toBe(true);
    expect(scanned('', [{ text: '', ignoreCase: true }])).toBe(true);
  });
});

describe('an or of contains and icontains on one field', () => {
  const NEEDLES = ['-e', '/dev/TCP/', 'Stratum+tcp://', 'ab', ' -c', 'İx', 'k:'];

  function condition(needles: readonly Needle[], field: string): string {
    return needles
      .map((n) => `${field} ${n.ignoreCase ? 'icontains' : 'contains'} ${JSON.stringify(n.text)}`)
      .join(' or ');
  }

  it('fires as each check would on its own, for proc.cmdline, proc.args, proc.pcmdline and a plain field', () => {
    const rnd = random(7);
    const words = ['nc', '-e', '/bin/sh', '/dev/tcp/10.0.0.1/4444', 'STRATUM+TCP://x', 'a', 'b'];
    const word = () =>
      rnd() < 0.7 ? (words[Math.floor(rnd() * words.length)] as string) : text(rnd, 6);
    for (let round = 0; round < 60; round++) {
      const needles: Needle[] = [];
      const count = 2 + Math.floor(rnd() * 4);
      for (let i = 0; i < count; i++) {
        needles.push({
          text: NEEDLES[Math.floor(rnd() * NEEDLES.length)] as string,
          ignoreCase: rnd() < 0.5,
        });
      }
      for (const field of ['proc.cmdline', 'proc.args', 'proc.pcmdline', 'proc.exepath']) {
        const grouped = compileOne(`evt.type = execve and (${condition(needles, field)})`);
        const alone = needles.map((n) =>
          compileOne(`evt.type = execve and ${condition([n], field)}`),
        );
        for (let k = 0; k < 10; k++) {
          const args = Array.from({ length: Math.floor(rnd() * 5) }, word);
          const process = {
            name: rnd() < 0.1 ? '' : word(),
            exe: word(),
            args,
            ancestors: [{ name: word(), args: [word(), word(), word()] }],
          };
          const event = buildEvent({ process_exec: { process } });
          const expected = alone.some((r) => r.matches(event));
          expect(grouped.matches(event), JSON.stringify({ field, needles, process })).toBe(
            expected,
          );
          expect(grouped.matcherFor?.('process_exec')?.(event)).toBe(expected);
        }
      }
    }
  });

  it('keeps the alternatives around the run where they were', () => {
    const rule = compileOne(
      'evt.type = execve and (proc.name = nc or proc.cmdline contains "/dev/tcp/" or proc.cmdline icontains "/DEV/UDP/" or proc.exepath = /bin/x)',
    );
    const ev = (name: string, args: string[], exe = '/usr/bin/y') =>
      buildEvent({ process_exec: { process: { name, exe, args } } });
    expect(rule.matches(ev('nc', ['nc']))).toBe(true);
    expect(rule.matches(ev('bash', ['bash', '-c', 'exec 3<>/dev/udp/1.2.3.4/53']))).toBe(true);
    expect(rule.matches(ev('bash', ['bash', '-c', 'cat < /dev/tcp/1.2.3.4/80']))).toBe(true);
    expect(rule.matches(ev('bash', ['bash', '-c', 'echo'], '/bin/x'))).toBe(true);
    expect(rule.matches(ev('bash', ['bash', '-c', 'echo /dev/TCP/']))).toBe(false);
  });
});
