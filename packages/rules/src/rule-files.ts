import { loadFalcoRules } from './falco/loader.js';
import type { RuleSet } from './rule.js';
import { loadSigmaRules } from './sigma/load-sigma-rules.js';

/** A rule file's path (for messages) and its text. */
export interface RuleFile {
  path: string;
  text: string;
}

/** The rule languages Mamori reads. */
export type RuleLanguage = 'falco' | 'sigma';

/**
 * Which language a rule file is in. A Sigma rule is a YAML mapping with `detection` (and
 * `logsource`) at the top; a Falco file is a YAML sequence of rules, macros and lists, so those
 * keys never start a line there.
 */
export function ruleLanguageOf(text: string): RuleLanguage {
  return /^(detection|logsource)[ \t]*:/m.test(text) ? 'sigma' : 'falco';
}

/**
 * Loads rule files of either language: Falco files together and in order (later files
 * override earlier ones, as in Falco), Sigma files each on its own. Never throws on content.
 */
export function loadRuleFiles(files: readonly RuleFile[]): RuleSet {
  const falco = files.filter((file) => ruleLanguageOf(file.text) === 'falco');
  const sigma = files.filter((file) => ruleLanguageOf(file.text) === 'sigma');
  const sets = [
    ...(falco.length > 0 ? [loadFalcoRules(falco)] : []),
    ...(sigma.length > 0 ? [loadSigmaRules(sigma)] : []),
  ];
  return {
    rules: sets.flatMap((set) => set.rules),
    skipped: sets.flatMap((set) => set.skipped),
    problems: sets.flatMap((set) => set.problems),
  };
}
