import type { Detector, Finding, InspectedValue } from '../types.js';
import { finding } from './util.js';

/** Nesting of `${…}` followed; Log4j's own limit of recursion is far lower in practice. */
const MAX_LOOKUP_DEPTH = 32;

/** What an obfuscating lookup stands for: `${lower:j}` → j, `${::-j}` / `${env:X:-j}` → j. */
function resolveLookup(inner: string): string {
  const lower = inner.toLowerCase();
  if (lower.startsWith('jndi')) return `\${${inner}}`;
  if (lower.startsWith('lower:') || lower.startsWith('upper:')) return inner.slice(6);
  const dflt = inner.indexOf(':-');
  if (dflt !== -1) return inner.slice(dflt + 2);
  if (lower.startsWith('date:')) return inner.slice(5).split("'").join('');
  return `\${${inner}}`;
}

/**
 * Resolves the lookups Log4Shell payloads nest to hide `jndi` (`${${lower:j}ndi:…}`,
 * `${${::-j}${::-n}di:…}`), leaving other lookups as they are. One pass with a stack: each
 * character is copied at most once per nesting level, and nesting is bounded.
 */
export function normalizeLookups(text: string): string {
  const stack: string[] = [''];
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '$' && text[i + 1] === '{' && stack.length < MAX_LOOKUP_DEPTH) {
      stack.push('');
      i++;
    } else if (c === '}' && stack.length > 1) {
      const inner = stack.pop()!;
      stack[stack.length - 1] += resolveLookup(inner);
    } else {
      stack[stack.length - 1] += c;
    }
  }
  return stack.join('${');
}

/** JNDI lookups (Log4Shell, category `jndi`), obfuscated lookups resolved first. */
export const jndiCheck: Detector = {
  name: 'jndi-lookup',
  categories: ['jndi'],
  inspect(value: InspectedValue): Finding[] {
    const at = value.value.indexOf('${');
    if (at === -1) return [];
    const normalized = normalizeLookups(value.value.slice(at)).toLowerCase();
    const jndi = normalized.indexOf('${jndi:');
    if (jndi === -1) return [];
    return [
      finding(value, 'jndi', 1, 'a JNDI lookup (Log4Shell)', normalized.slice(jndi, jndi + 200)),
    ];
  },
};
