import { describe, expect, it } from 'vitest';
import { runRulesCommand, type RulesIo } from '../src/rules.js';

/** Files in memory, and what the command wrote. */
function memoryIo(files: Record<string, string>) {
  const out: string[] = [];
  const err: string[] = [];
  const io: RulesIo = {
    out: (text) => void out.push(text),
    err: (text) => void err.push(text),
    readText: (path) => {
      const text = files[path];
      return text === undefined
        ? Promise.reject(new Error(`ENOENT: no such file, open '${path}'`))
        : Promise.resolve(text);
    },
  };
  return { io, out: () => out.join(''), err: () => err.join('') };
}

const FALCO = `
- list: miners
  items: [xmrig, minerd]
- macro: spawned
  condition: evt.type = execve and evt.dir = <
- rule: Miner
  desc: a miner
  condition: spawned and proc.name in (miners)
  output: miner %proc.name in %container.id
  priority: CRITICAL
  tags: [T1496]
- rule: Module loaded
  desc: needs what Mamori does not see
  condition: evt.type = kexec_load
  output: x
  priority: ERROR
- rule: Broken
  desc: bad condition
  condition: proc.name = = x
  output: x
  priority: ERROR
`;

const SIGMA = `title: Base64 decoded
id: 7f3f1c2e-0000-4000-8000-000000000001
status: test
logsource:
  product: linux
  category: process_creation
detection:
  selection:
    Image|endswith: /base64
    CommandLine|contains: ' -d'
  condition: selection
level: low
`;

const miner = JSON.stringify({
  id: 'e-1',
  tenant_id: 'city-a',
  agent_id: 'node-1',
  observed_unix_micros: 1_764_000_000_000_000,
  workload: { container_id: 'c0ffee' },
  process_exec: { process: { pid: 7, name: 'xmrig', exe: '/tmp/xmrig', args: ['xmrig'] } },
});
const base64 = JSON.stringify({
  id: 'e-2',
  process_exec: {
    process: { name: 'base64', exe: '/usr/bin/base64', args: ['base64', '-d', 'x.b64'] },
  },
});
const quiet = JSON.stringify({
  id: 'e-3',
  process_exec: { process: { name: 'ls', exe: '/usr/bin/ls', args: ['ls'] } },
});

describe('mamori rules check', () => {
  it('prints problems as file:line: message, skipped rules with why, and the totals', async () => {
    const { io, out } = memoryIo({ 'rules.yaml': FALCO, 'sigma.yml': SIGMA });
    const code = await runRulesCommand(['check', 'rules.yaml', 'sigma.yml'], io);
    expect(code).toBe(1);
    const lines = out().trim().split('\n');
    expect(lines).toContainEqual(expect.stringMatching(/^rules\.yaml:17: .*Broken/));
    expect(lines).toContainEqual(
      expect.stringMatching(/^rules\.yaml:12: rule "Module loaded" skipped: .*kexec_load/),
    );
    expect(lines.at(-1)).toBe('4 rules: 2 compiled, 2 skipped; 1 problems');
  });

  it('prints one JSON object with --format json', async () => {
    const { io, out } = memoryIo({ 'rules.yaml': FALCO });
    await runRulesCommand(['check', 'rules.yaml', '--format', 'json'], io);
    const report = JSON.parse(out()) as Record<string, unknown>;
    expect(report).toMatchObject({
      rules: 3,
      compiled: 1,
      skipped: [
        { rule: 'Module loaded', reason: expect.stringContaining('kexec_load') },
        { rule: 'Broken', reason: expect.stringContaining('condition') },
      ],
      problems: [{ file: 'rules.yaml', line: 17 }],
    });
  });

  it('exits 0 when every file is clean, and 2 on a file it cannot read', async () => {
    const clean = memoryIo({ 'sigma.yml': SIGMA });
    expect(await runRulesCommand(['check', 'sigma.yml'], clean.io)).toBe(0);
    const missing = memoryIo({});
    expect(await runRulesCommand(['check', 'nope.yaml'], missing.io)).toBe(2);
    expect(missing.err()).toMatch(/^nope\.yaml: cannot read: ENOENT/);
  });
});

describe('mamori rules test', () => {
  it('writes one alert a line for each rule an event fires, Falco and Sigma alike', async () => {
    const events = [miner, base64, quiet].join('\n');
    const { io, out } = memoryIo({ 'rules.yaml': FALCO, 'sigma.yml': SIGMA, 'e.jsonl': events });
    const code = await runRulesCommand(
      ['test', '--rules', 'rules.yaml', 'sigma.yml', '--events', 'e.jsonl'],
      io,
    );
    expect(code).toBe(0);
    const alerts = out()
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(alerts).toEqual([
      expect.objectContaining({
        rule_id: 'falco:Miner',
        severity: 'critical',
        output: 'miner xmrig in c0ffee',
        event_id: 'e-1',
        line: 1,
        tags: ['T1496'],
      }),
      expect.objectContaining({ rule: 'Base64 decoded', source: 'sigma', event_id: 'e-2' }),
    ]);
  });

  it("uses Mamori's built-in rules when no --rules are given", async () => {
    const { io, out } = memoryIo({ 'e.jsonl': `${miner}\n` });
    expect(await runRulesCommand(['test', '--events', 'e.jsonl'], io)).toBe(0);
    expect(out()).toContain('"rule_id":"mamori:Crypto miner started"');
  });

  it('names the line of a bad event and goes on with the rest', async () => {
    const events = ['{not json', '[1]', '{"process_exec":{"process":{"pid":"x"}}}', miner];
    const { io, out, err } = memoryIo({ 'e.jsonl': events.join('\n') });
    expect(await runRulesCommand(['test', '--events', 'e.jsonl'], io)).toBe(1);
    expect(err()).toMatch(/^e\.jsonl:1: not JSON/m);
    expect(err()).toMatch(/^e\.jsonl:2: not a JSON object/m);
    expect(err()).toMatch(/^e\.jsonl:3: .*pid/m);
    expect(out()).toContain('"line":4');
  });
});
