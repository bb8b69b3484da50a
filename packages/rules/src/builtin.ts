import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadFalcoRules } from './falco/loader.js';
import type { RuleSet } from './rule.js';

/** Mamori's built-in rule file (Falco's language), shipped with the package. */
export const BUILTIN_RULES_PATH = fileURLToPath(
  new URL('../builtin/mamori_rules.yaml', import.meta.url),
);

/**
 * Mamori's built-in rules, compiled (ids `mamori:<name>`). Their macros and lists are prefixed
 * `mamori_`, so they load the same beside Falco's files.
 * @throws Error when the shipped file cannot be read (a broken installation).
 */
export function loadBuiltinRules(): RuleSet {
  const text = readFileSync(BUILTIN_RULES_PATH, 'utf8');
  return loadFalcoRules([{ path: BUILTIN_RULES_PATH, text }], { source: 'mamori' });
}
