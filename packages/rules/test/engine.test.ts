import { describe, expect, it, vi } from 'vitest';
import type { Event__Output } from '@mamori/proto';
import { createRuleEngine } from '../src/engine.js';
import type { CompiledRule, EventKind } from '../src/rule.js';
import { loadFalcoRules } from '../src/falco/loader.js';
import { buildEvent } from './support/events.js';

function rule(
  id: string,
  kinds: EventKind[],
  matches: (e: Event__Output) => boolean,
): CompiledRule {
  return {
    id,
    name: id,
    source: 'mamori',
    priority: 'info',
    severity: 'info',
    tags: [],
    kinds,
    matches,
    render: () => id,
    details: () => ({}),
  };
}

const exec = buildEvent({ process_exec: { process: { name: 'bash' } } });
const dns = buildEvent({ dns_query: { query: 'example.org' } });

describe('createRuleEngine', () => {
  it('offers an event only to the rules of its kind, and returns the matches in order', () => {
    const onExec = vi.fn(() => true);
    const onDns = vi.fn(() => true);
    const engine = createRuleEngine([
      rule('a', ['process_exec'], onExec),
      rule('b', ['dns_query'], onDns),
      rule('c', ['dns_query', 'process_exec'], () => true),
    ]);
    expect(engine.evaluate(exec).map((r) => r.id)).toEqual(['a', 'c']);
    expect(onExec).toHaveBeenCalledTimes(1);
    expect(onDns).not.toHaveBeenCalled();
    expect(engine.rulesFor('dns_query').map((r) => r.id)).toEqual(['b', 'c']);
    expect(engine.size).toBe(3);
  });

  it('returns one shared frozen empty result when nothing matches', () => {
    const engine = createRuleEngine([rule('a', ['process_exec'], () => false)]);
    const first = engine.evaluate(exec);
    expect(first).toEqual([]);
    expect(Object.isFrozen(first)).toBe(true);
    expect(engine.evaluate(dns)).toBe(first);
    expect(engine.evaluate(buildEvent({}))).toBe(first);
  });

  it('swaps rules atomically on reload, even from inside an evaluation', () => {
    const engine = createRuleEngine([]);
    let reloaded = false;
    const first = rule('first', ['process_exec'], () => {
      if (!reloaded) {
        reloaded = true;
        engine.reload([rule('new', ['process_exec'], () => true)]);
      }
      return true;
    });
    engine.reload({ rules: [first, rule('second', ['process_exec'], () => true)] });
    // The evaluation that reloaded finishes on the rules it started with.
    expect(engine.evaluate(exec).map((r) => r.id)).toEqual(['first', 'second']);
    expect(engine.evaluate(exec).map((r) => r.id)).toEqual(['new']);
    expect(engine.size).toBe(1);
  });

  it('treats a rule that throws as not matching and goes on with the others', () => {
    const errors: string[] = [];
    const engine = createRuleEngine(
      [
        rule('bad', ['process_exec'], () => {
          throw new Error('boom');
        }),
        rule('good', ['process_exec'], () => true),
      ],
      { onRuleError: (r, err) => errors.push(`${r.id}: ${(err as Error).message}`) },
    );
    expect(engine.evaluate(exec).map((r) => r.id)).toEqual(['good']);
    expect(errors).toEqual(['bad: boom']);
  });

  it('evaluates Falco rules from a loaded rule set', () => {
    const set = loadFalcoRules([
      {
        path: 'r.yaml',
        text: '- rule: shell\n  desc: d\n  condition: evt.type = execve and proc.name = bash\n  output: shell %proc.name\n  priority: NOTICE\n',
      },
    ]);
    const engine = createRuleEngine(set);
    const [hit] = engine.evaluate(exec);
    expect(hit?.id).toBe('falco:shell');
    expect(hit?.render(exec)).toBe('shell bash');
    expect(engine.rulesFor('file_open')).toEqual([]);
  });

  it("calls a rule's per-kind function instead of its matches, and falls back where it has none", () => {
    const matches = vi.fn(() => true);
    const direct = vi.fn(() => true);
    const engine = createRuleEngine([
      {
        ...rule('both', ['process_exec', 'dns_query'], matches),
        matcherFor: (kind) => (kind === 'process_exec' ? direct : undefined),
      },
    ]);
    expect(engine.evaluate(exec).map((r) => r.id)).toEqual(['both']);
    expect(direct).toHaveBeenCalledTimes(1);
    expect(matches).not.toHaveBeenCalled();
    expect(engine.evaluate(dns).map((r) => r.id)).toEqual(['both']);
    expect(matches).toHaveBeenCalledTimes(1);
  });

  it('counts a throw from a per-kind function as no match without reporting it', () => {
    const onRuleError = vi.fn();
    const engine = createRuleEngine(
      [
        {
          ...rule('throws', ['process_exec'], () => true),
          matcherFor: () => () => {
            throw new TypeError('hand-built event');
          },
        },
        rule('after', ['process_exec'], () => true),
      ],
      { onRuleError },
    );
    expect(engine.evaluate(exec).map((r) => r.id)).toEqual(['after']);
    expect(onRuleError).not.toHaveBeenCalled();
  });

  it('gives a Falco rule its generated function for each kind it fires on, and no other', () => {
    const [shell] = loadFalcoRules([
      {
        path: 'r.yaml',
        text: '- rule: shell\n  desc: d\n  condition: evt.type = execve and proc.name = bash\n  output: o\n  priority: NOTICE\n',
      },
    ]).rules;
    expect(shell?.matcherFor?.('process_exec')?.(exec)).toBe(true);
    expect(shell?.matcherFor?.('file_open')).toBeUndefined();
  });

  it('evaluates many rules of one kind the same way: in order, throws as no match, reported', () => {
    for (const count of [3, 64, 65, 200]) {
      const errors: string[] = [];
      const rules = Array.from({ length: count }, (_, i) => {
        const id = `r${i}`;
        if (i % 7 === 3) {
          return rule(id, ['process_exec'], () => {
            throw new Error(id);
          });
        }
        if (i % 5 === 4) {
          return {
            ...rule(id, ['process_exec'], () => false),
            matcherFor: () => () => {
              throw new TypeError('hand-built');
            },
          };
        }
        return rule(id, ['process_exec'], () => i % 2 === 0);
      });
      const engine = createRuleEngine(rules, {
        onRuleError: (r, err) => errors.push(`${r.id}:${(err as Error).message}`),
      });
      const expected = rules.filter((_, i) => i % 7 !== 3 && i % 5 !== 4 && i % 2 === 0);
      expect(engine.evaluate(exec)).toEqual(expected);
      expect(errors).toEqual(rules.filter((_, i) => i % 7 === 3).map((r) => `${r.id}:${r.id}`));
    }
  });
});
