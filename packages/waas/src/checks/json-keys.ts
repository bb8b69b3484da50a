import type { Detector, Finding, InspectedValue } from '../types.js';
import { finding } from './util.js';

/** MongoDB query and update operators that change what a query matches or runs. */
const NOSQL_OPERATORS: ReadonlySet<string> = new Set([
  '$where',
  '$ne',
  '$eq',
  '$gt',
  '$gte',
  '$lt',
  '$lte',
  '$in',
  '$nin',
  '$regex',
  '$exists',
  '$or',
  '$and',
  '$not',
  '$nor',
  '$expr',
  '$elemmatch',
  '$function',
  '$accumulator',
  '$type',
  '$size',
  '$all',
  '$mod',
  '$text',
  '$lookup',
  '$jsonschema',
]);

/** `$op` at `at` in `text` (case-insensitive) when followed by a non-identifier character. */
function operatorAt(text: string, at: number): string | undefined {
  let j = at + 1;
  while (j < text.length) {
    const c = text.charCodeAt(j) | 0x20;
    if (c < 97 || c > 122) break;
    j++;
  }
  const op = text.slice(at, j).toLowerCase();
  return NOSQL_OPERATORS.has(op) ? op : undefined;
}

/**
 * NoSQL operators (category `nosqli`): as JSON keys (`{"$ne": null}`), in bracketed parameter
 * names (`user[$ne]=`), and in values that are operator objects (`{$where: …}`, `, $or: [`).
 */
export const nosqlCheck: Detector = {
  name: 'nosql-operators',
  categories: ['nosqli'],
  inspect(value: InspectedValue): Finding[] {
    const text = value.value;
    if (value.kind === 'json-key') {
      if (text.charCodeAt(0) === 36 && operatorAt(text, 0) === text.toLowerCase()) {
        return [finding(value, 'nosqli', 1, `the query operator "${text}" as a JSON key`, text)];
      }
      return [];
    }
    let at = text.indexOf('$');
    while (at !== -1) {
      const op = operatorAt(text, at);
      if (op !== undefined) {
        const before = at > 0 ? text[at - 1] : '';
        let k = at + op.length;
        while (k < text.length && text.charCodeAt(k) === 32) k++;
        const after = text[k] ?? '';
        // `[$ne]` in a name, `{$gt:` / `, $or:` / `"$where":` in a value: operator syntax, not
        // a price or a shell variable.
        const opens =
          before === '[' ||
          before === '{' ||
          before === '"' ||
          before === "'" ||
          before === ',' ||
          before === ' ';
        const closes = after === ']' || after === ':' || after === '"' || after === "'";
        if (opens && closes && (before !== ' ' || after === ':')) {
          return [
            finding(
              value,
              'nosqli',
              1,
              `the query operator "${op}"`,
              text.slice(Math.max(0, at - 20), at + 180),
            ),
          ];
        }
      }
      at = text.indexOf('$', at + 1);
    }
    return [];
  },
};

/**
 * Prototype-pollution keys (category `prototype-pollution`): `__proto__` and
 * `constructor.prototype` as JSON keys, in parameter names (`a[__proto__][x]`) and in JSON
 * text inside a value.
 */
export const prototypePollutionCheck: Detector = {
  name: 'prototype-pollution',
  categories: ['prototype-pollution'],
  inspect(value: InspectedValue): Finding[] {
    const text = value.value;
    if (value.kind === 'json-key') {
      if (text === '__proto__') {
        return [finding(value, 'prototype-pollution', 1, 'the key "__proto__"', text)];
      }
      if (text === 'prototype' && value.location.endsWith('.constructor.prototype')) {
        return [finding(value, 'prototype-pollution', 1, 'the keys "constructor.prototype"', text)];
      }
      return [];
    }
    const proto = text.indexOf('__proto__');
    if (proto !== -1) {
      const before = text[proto - 1] ?? '';
      const after = text[proto + 9] ?? '';
      if (
        before === '' ||
        '[."\''.includes(before) ||
        after === '[' ||
        after === '.' ||
        after === ']'
      ) {
        return [
          finding(
            value,
            'prototype-pollution',
            1,
            'the key "__proto__"',
            text.slice(proto, proto + 200),
          ),
        ];
      }
    }
    const ctor = text.indexOf('constructor');
    if (ctor !== -1) {
      const rest = text.slice(ctor + 11, ctor + 16);
      if (rest === '[prot' || rest === '.prot' || rest === '][pr') {
        if (text.startsWith('prototype', ctor + 12)) {
          return [
            finding(
              value,
              'prototype-pollution',
              1,
              'the keys "constructor.prototype"',
              text.slice(ctor, ctor + 200),
            ),
          ];
        }
      }
    }
    return [];
  },
};
