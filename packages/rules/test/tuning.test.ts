import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { protoType, type RuleException, type RuleTuning } from '@mamori/proto';
import { BUILTIN_RULES_PATH, loadBuiltinRules } from '../src/builtin.js';
import { createRuleEngine } from '../src/engine.js';
import { compileRuleException } from '../src/falco/exceptions.js';
import { loadFalcoRules } from '../src/falco/loader.js';
import { compileTuning, RuleTuningStore, ruleTuningKey } from '../src/tuning.js';
import { buildEvent, webRequest } from './support/events.js';

const type = protoType('mamori.v1.RuleTuning');
const bytes = (t: RuleTuning): Buffer => Buffer.from(type.encode(type.fromObject(t)).finish());
const record = (key: string, value: Buffer | RuleTuning, offset = 0) => ({
  key: Buffer.from(key),
  value: Buffer.isBuffer(value) ? value : bytes(value),
  offset,
});

const miner = buildEvent({
  process_exec: {
    process: {
      pid: 7,
      name: 'xmrig',
      exe: '/opt/xmrig',
      args: ['xmrig', '-o', 'stratum+tcp://p:3333'],
    },
  },
  workload: {
    container_id: '0123456789ab',
    namespace: 'batch',
    image_repository: 'registry.example.gov/city/miner-test',
  },
});
const shadowRead = buildEvent({
  file_open: { path: '/etc/shadow', flags: 0, process: { pid: 9, name: 'python3' } },
});

function exception(partial: RuleException): RuleException {
  return { id: 'ex-1', rule: 'mamori:Crypto miner', fields: ['proc.name'], ...partial };
}

describe('compileRuleException', () => {
  it('holds when every field of one tuple compares true, with the given operators', () => {
    const ex = compileRuleException({
      name: 'lab miners',
      fields: ['proc.name', 'k8s.ns.name'],
      comps: ['=', 'startswith'],
      values: [
        ['xmrig', 'prod'],
        ['xmrig', 'bat'],
      ],
    });
    expect(ex.kinds).toContain('process_exec');
    expect(ex.holds(miner)).toBe(true);
    const other = compileRuleException({
      name: 'elsewhere',
      fields: ['proc.name', 'k8s.ns.name'],
      comps: ['=', 'startswith'],
      values: [['xmrig', 'prod']],
    });
    expect(other.holds(miner)).toBe(false);
  });

  it('takes = for every field without comps, and a list operator value as a list of one', () => {
    const exact = compileRuleException({
      name: 'exact',
      fields: ['proc.name'],
      comps: [],
      values: [['xmrig']],
    });
    expect(exact.holds(miner)).toBe(true);
    const listed = compileRuleException({
      name: 'listed',
      fields: ['container.image.repository'],
      comps: ['in'],
      values: [['registry.example.gov/city/miner-test']],
    });
    expect(listed.holds(miner)).toBe(true);
    const prefix = compileRuleException({
      name: 'prefix',
      fields: ['fd.name'],
      comps: ['pmatch'],
      values: [['/etc']],
    });
    expect(prefix.holds(shadowRead)).toBe(true);
    expect(prefix.holds(miner)).toBe(false);
  });

  it('compares values as data: quotes and parentheses in a value are literal, never rule text', () => {
    const ex = compileRuleException({
      name: 'hostile',
      fields: ['proc.cmdline'],
      comps: ['contains'],
      values: [['") or proc.name exists or ("']],
    });
    expect(ex.holds(miner)).toBe(false);
    const odd = buildEvent({
      process_exec: {
        process: { pid: 1, name: 'x', args: ['a', '") or proc.name exists or ("', 'b'] },
      },
    });
    expect(ex.holds(odd)).toBe(true);
  });

  it.each([
    [{ fields: ['proc.nope'], comps: [], values: [['x']] }, /proc\.nope/],
    [{ fields: ['proc.name'], comps: ['~~'], values: [['x']] }, /comps ~~ is not an operator/],
    [{ fields: ['proc.name', 'fd.name'], comps: [], values: [['x']] }, /one entry per field/],
    [{ fields: ['proc.pid'], comps: [], values: [['seven']] }, /seven/],
    [{ fields: [], comps: [], values: [['x']] }, /at least one field/],
    [{ fields: ['proc.name'], comps: [], values: [] }, /at least one tuple/],
  ])('refuses an exception that cannot be used, naming what is wrong: %j', (spec, message) => {
    expect(() => compileRuleException({ name: 'bad', ...spec })).toThrow(message);
  });
});

describe('RuleTuningStore', () => {
  it('keeps the last record per key and drops a key on a tombstone or an empty value', () => {
    const store = new RuleTuningStore();
    const key = ruleTuningKey('t', 'exception', 'ex-1');
    store.applyRecords([
      record(key, { tenant_id: 't', exception: exception({ name: 'first' }) }, 0),
      record(key, { tenant_id: 't', exception: exception({ name: 'second' }) }, 1),
      record(ruleTuningKey('t', 'setting', 'falco:X'), {
        tenant_id: 't',
        setting: { rule: 'falco:X', enabled: false },
      }),
    ]);
    expect(store.exceptions('t').map((e) => e.name)).toEqual(['second']);
    expect(store.settings('t')).toEqual([{ rule: 'falco:X', enabled: false }]);
    expect(store.exceptions('u')).toEqual([]);
    store.applyRecords([record(key, { tenant_id: 't', deleted: true })]);
    expect(store.exceptions('t')).toEqual([]);
    store.applyRecords([record(ruleTuningKey('t', 'setting', 'falco:X'), Buffer.alloc(0))]);
    expect(store.tenants()).toEqual([]);
  });

  it('ignores records that cannot be tuning, with the reason, and applies the rest', () => {
    const store = new RuleTuningStore();
    const { changed, ignored } = store.applyRecords([
      record('t/exception', { tenant_id: 't', exception: exception({}) }, 0),
      record('t/policy/ex-1', { tenant_id: 't', exception: exception({}) }, 1),
      record(ruleTuningKey('t', 'exception', 'ex-1'), Buffer.from([0xff, 0xff, 0xff]), 2),
      record(
        ruleTuningKey('t', 'exception', 'ex-1'),
        { tenant_id: 'u', exception: exception({}) },
        3,
      ),
      record(
        ruleTuningKey('t', 'exception', 'ex-2'),
        { tenant_id: 't', exception: exception({}) },
        4,
      ),
      record(ruleTuningKey('t', 'setting', 'r'), { tenant_id: 't', exception: exception({}) }, 5),
      record(
        ruleTuningKey('t', 'exception', 'ex-1'),
        { tenant_id: 't', exception: exception({}) },
        6,
      ),
    ]);
    expect(ignored.map((i) => i.offset)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(ignored[3]!.reason).toMatch(/another tenant/);
    expect(ignored[4]!.reason).toMatch(/another id/);
    expect(changed).toEqual(['t']);
    expect(store.exceptions('t').map((e) => e.id)).toEqual(['ex-1']);
  });
});

describe('compileTuning', () => {
  const store = new RuleTuningStore();
  store.applyRecords([
    record(ruleTuningKey('t', 'exception', 'ex-1'), {
      tenant_id: 't',
      exception: exception({ values: [{ values: ['xmrig'] }] }),
    }),
    record(ruleTuningKey('t', 'exception', 'broken'), {
      tenant_id: 't',
      exception: exception({ id: 'broken', fields: ['proc.nope'], values: [{ values: ['x'] }] }),
    }),
    record(ruleTuningKey('t', 'setting', 'falco:Read sensitive file untrusted'), {
      tenant_id: 't',
      setting: { rule: 'falco:Read sensitive file untrusted', enabled: false },
    }),
    record(ruleTuningKey('t', 'setting', 'falco:Other'), {
      tenant_id: 't',
      setting: { rule: 'falco:Other', enabled: true },
    }),
  ]);
  const tuning = compileTuning(store.exceptions('t'), store.settings('t'));

  it('suppresses a disabled rule, and a rule on an event one of its exceptions holds on', () => {
    expect(tuning.suppression({ id: 'falco:Read sensitive file untrusted' }, shadowRead)).toEqual({
      by: 'setting',
    });
    expect(tuning.suppression({ id: 'mamori:Crypto miner' }, miner)).toEqual({
      by: 'exception',
      id: 'ex-1',
    });
    expect(tuning.disabled).toBe(1);
  });

  it('lets a rule fire where no exception of that rule holds', () => {
    expect(tuning.suppression({ id: 'mamori:Other miner rule' }, miner)).toBeUndefined();
    expect(tuning.suppression({ id: 'mamori:Crypto miner' }, shadowRead)).toBeUndefined();
    expect(tuning.suppression({ id: 'falco:Other' }, miner)).toBeUndefined();
  });

  it('reports an exception it cannot compile and lets it silence nothing', () => {
    expect(tuning.problems).toEqual([
      { id: 'broken', message: expect.stringContaining('proc.nope') },
    ]);
    expect(tuning.exceptions).toBe(1);
  });
});

describe('exceptions on web requests', () => {
  const engine = createRuleEngine(loadBuiltinRules());
  const detectOnly = { 'waas.action': 'block', 'waas.categories': 'sqli' };
  const blocked = { ...detectOnly, 'waas.enforced': 'true' };
  const fired = (event: ReturnType<typeof webRequest>) =>
    engine.evaluate(event).map((rule) => rule.id);

  it('compiles an exception on http.* fields for web requests alone', () => {
    const ex = compileRuleException({
      name: 'search page',
      fields: ['http.path'],
      comps: ['startswith'],
      values: [['/search']],
    });
    expect(ex.kinds).toEqual(['http_request']);
    expect(ex.holds(webRequest(detectOnly))).toBe(true);
    expect(ex.holds(webRequest(detectOnly, '/login?next=/search'))).toBe(false);
    expect(ex.holds(miner)).toBe(false);
  });

  it('silences the one rule it is for, on the requests it names', () => {
    const store = new RuleTuningStore();
    store.applyRecords([
      record(ruleTuningKey('t', 'exception', 'search'), {
        tenant_id: 't',
        exception: exception({
          id: 'search',
          rule: 'mamori:Web attack not blocked',
          fields: ['http.path', 'waas.categories'],
          comps: ['startswith', 'in'],
          values: [{ values: ['/search', 'sqli'] }],
        }),
      }),
    ]);
    const tuning = compileTuning(store.exceptions('t'), []);
    expect(tuning.problems).toEqual([]);
    const search = webRequest(detectOnly);
    expect(fired(search)).toEqual(['mamori:Web attack not blocked']);
    expect(tuning.suppression({ id: 'mamori:Web attack not blocked' }, search)).toEqual({
      by: 'exception',
      id: 'search',
    });
    const login = webRequest(detectOnly, "/login?user=admin'--");
    expect(fired(login)).toEqual(['mamori:Web attack not blocked']);
    expect(tuning.suppression({ id: 'mamori:Web attack not blocked' }, login)).toBeUndefined();
    const stopped = webRequest(blocked);
    expect(fired(stopped)).toEqual(['mamori:Web request blocked']);
    expect(tuning.suppression({ id: 'mamori:Web request blocked' }, stopped)).toBeUndefined();
  });

  it('holds on web requests by the fields of their workload, as on any event', () => {
    const ex = compileRuleException({
      name: 'portal',
      fields: ['container.image.repository', 'k8s.ns.name'],
      comps: [],
      values: [['registry.example.gov/city/portal', 'citizens']],
    });
    expect(ex.kinds).toContain('http_request');
    expect(ex.holds(webRequest(detectOnly))).toBe(true);
  });

  it("applies a rule file's exceptions on web fields to the built-in rule they are appended to", () => {
    const local = [
      '- rule: Web attack not blocked',
      '  exceptions:',
      '    - name: search_page',
      '      fields: http.path',
      '      comps: startswith',
      '      values: [/search]',
      '  override:',
      '    exceptions: append',
    ].join('\n');
    const set = loadFalcoRules(
      [
        { path: BUILTIN_RULES_PATH, text: readFileSync(BUILTIN_RULES_PATH, 'utf8') },
        { path: 'local.yaml', text: local },
      ],
      { source: 'mamori' },
    );
    expect(set.problems).toEqual([]);
    const tuned = createRuleEngine(set);
    const names = (event: ReturnType<typeof webRequest>) =>
      tuned.evaluate(event).map((rule) => rule.name);
    expect(names(webRequest(detectOnly))).toEqual([]);
    expect(names(webRequest(detectOnly, "/login?user=admin'--"))).toEqual([
      'Web attack not blocked',
    ]);
    expect(names(webRequest(blocked))).toEqual(['Web request blocked']);
  });
});
