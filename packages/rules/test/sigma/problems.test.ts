import { describe, expect, it } from 'vitest';
import { loadSigmaRules } from '../../src/sigma/load-sigma-rules.js';
import { sigmaRule } from './sigma-text.js';

const good = {
  path: 'good.yml',
  text: sigmaRule({ title: 'Good', detection: 'sel:\n  Image: /x\ncondition: sel' }),
};

describe('loadSigmaRules on broken and unsupported files', () => {
  it('reports bad YAML with its line and goes on with the other files', () => {
    const set = loadSigmaRules([
      { path: 'bad.yml', text: 'title: x\ndetection:\n  sel: [a\n' },
      good,
    ]);
    expect(set.rules.map((r) => r.name)).toEqual(['Good']);
    expect(set.problems).toHaveLength(1);
    expect(set.problems[0]).toMatchObject({ file: 'bad.yml', line: expect.any(Number) });
    expect(set.problems[0]?.line).toBeGreaterThanOrEqual(3);
  });

  it('reports duplicate keys, which YAML parsers would otherwise resolve silently', () => {
    const set = loadSigmaRules([{ path: 'dup.yml', text: 'title: a\ntitle: b\n' }]);
    expect(set.problems[0]).toMatchObject({ file: 'dup.yml', line: 2 });
  });

  it('reports a rule without detection, condition, title or logsource', () => {
    const noDetection = sigmaRule({ detection: 'sel:\n  Image: /x\ncondition: sel' }).replace(
      /detection:[\s\S]*level/,
      'level',
    );
    const cases = {
      'no-detection.yml': noDetection,
      'no-condition.yml': sigmaRule({ detection: 'sel:\n  Image: /x' }),
      'no-title.yml':
        'logsource:\n  product: linux\n  category: process_creation\ndetection:\n  s:\n    Image: x\n  condition: s\n',
      'no-logsource.yml': 'title: t\ndetection:\n  s:\n    Image: x\n  condition: s\n',
    };
    const set = loadSigmaRules(Object.entries(cases).map(([path, text]) => ({ path, text })));
    expect(set.rules).toEqual([]);
    expect(set.problems.map((p) => [p.file, p.message])).toEqual([
      ['no-detection.yml', "rule 'Test rule': the rule has no 'detection'"],
      ['no-condition.yml', "rule 'Test rule': 'detection' has no 'condition'"],
      ['no-title.yml', "rule 'rule at line 1': the rule has no 'title'"],
      ['no-logsource.yml', "rule 't': the rule has no 'logsource' map"],
    ]);
  });

  it('reports a condition naming an unknown selection at the line of the condition', () => {
    const text = sigmaRule({ detection: 'sel:\n  Image: /x\ncondition: sel and filter' });
    const set = loadSigmaRules([{ path: 'r.yml', text }]);
    expect(set.problems).toEqual([
      {
        file: 'r.yml',
        line: 8,
        message: "rule 'Test rule': condition names unknown selection 'filter'",
      },
    ]);
  });

  it('reports a selection pattern that names nothing and a malformed condition', () => {
    const set = loadSigmaRules([
      {
        path: 'a.yml',
        text: sigmaRule({ detection: 'sel:\n  Image: /x\ncondition: 1 of filter_*' }),
      },
      { path: 'b.yml', text: sigmaRule({ detection: 'sel:\n  Image: /x\ncondition: sel and (' }) },
    ]);
    expect(set.problems.map((p) => p.message)).toEqual([
      "rule 'Test rule': condition: no selection matches 'filter_*'",
      "rule 'Test rule': condition: expected a selection at its end",
    ]);
  });

  it('skips a rule on a field Mamori cannot answer, naming rule, field and line', () => {
    const text = sigmaRule({
      title: 'Mining pool',
      category: 'network_connection',
      detection: 'sel:\n  DestinationHostname|endswith: .pool.example\ncondition: sel',
    });
    const set = loadSigmaRules([{ path: 'pool.yml', text }]);
    expect(set.rules).toEqual([]);
    expect(set.skipped).toEqual([
      {
        rule: 'Mining pool',
        field: 'DestinationHostname',
        reason: expect.stringMatching(/host name/),
        file: 'pool.yml',
        line: 7,
      },
    ]);
  });

  it('skips unknown modifiers, other log sources and aggregations with a reason', () => {
    const set = loadSigmaRules([
      {
        path: 'mod.yml',
        text: sigmaRule({ detection: 'sel:\n  Image|fuzzy: /x\ncondition: sel' }),
      },
      {
        path: 'win.yml',
        text: sigmaRule({ detection: 'sel:\n  Image: /x\ncondition: sel' }).replace(
          'linux',
          'windows',
        ),
      },
      {
        path: 'auditd.yml',
        text: 'title: A\nlogsource:\n  product: linux\n  service: auditd\ndetection:\n  s:\n    type: EXECVE\n  condition: s\n',
      },
      {
        path: 'dns.yml',
        text: sigmaRule({
          category: 'dns_query',
          detection: 'sel:\n  QueryName: x\ncondition: sel',
        }),
      },
      {
        path: 'agg.yml',
        text: sigmaRule({ detection: 'sel:\n  Image: /x\ncondition: sel | count() > 5' }),
      },
      {
        path: 'time.yml',
        text: sigmaRule({ detection: 'sel:\n  Image: /x\ntimeframe: 5m\ncondition: sel' }),
      },
    ]);
    expect(set.problems).toEqual([]);
    expect(set.skipped.map((s) => [s.file, s.reason])).toEqual([
      ['mod.yml', "unknown modifier 'fuzzy'"],
      ['win.yml', "logsource product 'windows' is not linux"],
      ['auditd.yml', "logsource service 'auditd' is not one Mamori's events answer"],
      ['dns.yml', "logsource category 'dns_query' is not one Mamori's events answer"],
      ['agg.yml', 'aggregations in conditions (`| count() …`) are not supported'],
      ['time.yml', "'timeframe' (correlation over time) is not supported"],
    ]);
    expect(set.skipped[0]).toMatchObject({ field: 'Image', line: 7 });
  });

  it('loads the first of two rules with one id and reports the second', () => {
    const text = sigmaRule({ id: 'same', detection: 'sel:\n  Image: /x\ncondition: sel' });
    const set = loadSigmaRules([
      { path: 'one.yml', text },
      { path: 'two.yml', text },
    ]);
    expect(set.rules).toHaveLength(1);
    expect(set.problems).toEqual([
      {
        file: 'two.yml',
        line: 1,
        message: "duplicate rule id 'sigma:same' (first defined in one.yml:1); not loaded",
      },
    ]);
  });

  it('reports an unknown level and an unknown collection action', () => {
    const set = loadSigmaRules([
      {
        path: 'level.yml',
        text: sigmaRule({ detection: 'sel:\n  Image: /x\ncondition: sel' }).replace(
          'level: high',
          'level: severe',
        ),
      },
      { path: 'action.yml', text: 'action: merge\ntitle: x\n' },
    ]);
    expect(set.problems.map((p) => p.message)).toEqual([
      "rule 'Test rule': level 'severe' is not a Sigma level",
      "unknown action 'merge'",
    ]);
  });

  it('never throws, whatever the file holds', () => {
    const texts = [
      '',
      '---\n---\n',
      '42',
      '- a\n- b\n',
      'a: &a [*a]',
      `a: &a ["x","x"]\nb: &b [${'*a,'.repeat(50)}*a]\nc: [${'*b,'.repeat(200)}*b]\n`,
      'title: t\nlogsource: linux\n',
      'title: t\nlogsource:\n  product: linux\n  category: process_creation\ndetection: [1, 2]\n',
      sigmaRule({ detection: 'sel: null\ncondition: sel' }),
      sigmaRule({ detection: 'sel: {}\ncondition: sel' }),
      sigmaRule({ detection: 'sel:\n  - a\n  - Image: x\ncondition: sel' }),
      sigmaRule({ detection: 'sel:\n  Image:\n    nested: map\ncondition: sel' }),
      sigmaRule({ detection: 'sel:\n  Image|re: "(unclosed"\ncondition: sel' }),
      sigmaRule({ detection: 'sel:\n  Image: /x\ncondition: 42' }),
      sigmaRule({ detection: 'sel:\n  Image: /x\ncondition: 5 of sel' }),
      'title: [not, a, string]\n',
      '\u0000\u0001binary',
    ];
    for (const text of texts) {
      expect(() => loadSigmaRules([{ path: 'x.yml', text }]), JSON.stringify(text)).not.toThrow();
    }
    const set = loadSigmaRules(texts.map((text, i) => ({ path: `${i}.yml`, text })));
    expect(set.rules).toEqual([]);
    expect(set.problems.length + set.skipped.length).toBeGreaterThanOrEqual(texts.length - 2);
  });
});
