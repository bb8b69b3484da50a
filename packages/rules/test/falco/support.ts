import { readFileSync } from 'node:fs';
import type { CompiledRule, RuleSet } from '../../src/rule.js';
import { loadFalcoRules, type FalcoRuleFile } from '../../src/falco/loader.js';

/** A fixture file of this folder, as the loader takes it. */
export function fixture(name: string): FalcoRuleFile {
  return { path: name, text: readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8') };
}

/** A one-rule file around `condition` (and `output`). */
export function ruleFile(condition: string, output = 'out', extra = ''): FalcoRuleFile {
  return {
    path: 'inline.yaml',
    text: `- rule: r\n  desc: d\n  condition: ${JSON.stringify(condition)}\n  output: ${JSON.stringify(output)}\n  priority: WARNING\n${extra}`,
  };
}

/** Loads a one-rule file; the rule set, for tests that look at skips. */
export function loadOne(condition: string, output?: string): RuleSet {
  return loadFalcoRules([ruleFile(condition, output)]);
}

/** The compiled rule for `condition`; fails the test when it was skipped. */
export function compileOne(condition: string, output?: string): CompiledRule {
  const set = loadOne(condition, output);
  const rule = set.rules[0];
  if (rule === undefined) {
    throw new Error(`not compiled: ${JSON.stringify(set.skipped)} ${JSON.stringify(set.problems)}`);
  }
  return rule;
}

export function byName(set: RuleSet, name: string): CompiledRule {
  const rule = set.rules.find((r) => r.name === name);
  if (rule === undefined) throw new Error(`no rule ${name}: ${JSON.stringify(set.skipped)}`);
  return rule;
}
