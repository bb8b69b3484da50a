import { invalid, unsupported } from './errors.js';

/** A Sigma condition as a tree; `of` names selections by a pattern (`sel*`, `them`). */
export type ConditionNode =
  | { readonly type: 'ref'; readonly name: string }
  | { readonly type: 'not'; readonly operand: ConditionNode }
  | { readonly type: 'and' | 'or'; readonly operands: readonly ConditionNode[] }
  | { readonly type: 'of'; readonly quantity: number | 'all'; readonly target: string };

function tokenize(condition: string): string[] {
  if (condition.includes('|')) {
    throw unsupported('aggregations in conditions (`| count() …`) are not supported');
  }
  const tokens: string[] = [];
  let word = '';
  const flush = (): void => {
    if (word !== '') tokens.push(word);
    word = '';
  };
  for (const ch of condition) {
    if (ch === '(' || ch === ')') {
      flush();
      tokens.push(ch);
    } else if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r') {
      flush();
    } else {
      word += ch;
    }
  }
  flush();
  return tokens;
}

const KEYWORDS = new Set(['and', 'or', 'not', 'of', 'them']);

/**
 * Parses a condition: `not` binds tighter than `and`, `and` tighter than `or` (the Sigma
 * specification), parentheses group, `1 of x*` / `all of them` quantify over selections.
 * @throws MamoriError with fault `invalid` on a syntax error, `unsupported` on aggregations.
 */
export function parseCondition(condition: string): ConditionNode {
  const tokens = tokenize(condition);
  let pos = 0;
  const peek = (): string | undefined => tokens[pos]?.toLowerCase();
  const fail = (what: string): never => {
    const at = tokens[pos];
    throw invalid(`condition: ${what}${at === undefined ? ' at its end' : ` at '${at}'`}`);
  };

  const parseOr = (): ConditionNode => {
    const operands = [parseAnd()];
    while (peek() === 'or') {
      pos++;
      operands.push(parseAnd());
    }
    return operands.length === 1 && operands[0] !== undefined
      ? operands[0]
      : { type: 'or', operands };
  };
  const parseAnd = (): ConditionNode => {
    const operands = [parseNot()];
    while (peek() === 'and') {
      pos++;
      operands.push(parseNot());
    }
    return operands.length === 1 && operands[0] !== undefined
      ? operands[0]
      : { type: 'and', operands };
  };
  const parseNot = (): ConditionNode => {
    if (peek() === 'not') {
      pos++;
      return { type: 'not', operand: parseNot() };
    }
    return parsePrimary();
  };
  const parsePrimary = (): ConditionNode => {
    const token = tokens[pos];
    if (token === undefined) return fail('expected a selection');
    if (token === '(') {
      pos++;
      const inner = parseOr();
      if (tokens[pos] !== ')') return fail("expected ')'");
      pos++;
      return inner;
    }
    const lower = token.toLowerCase();
    if (lower === 'near') throw unsupported("'near' (temporal proximity) is not supported");
    if (tokens[pos + 1]?.toLowerCase() === 'of') {
      const quantity =
        lower === 'all' ? 'all' : /^[1-9][0-9]*$/.test(lower) ? Number(lower) : undefined;
      if (quantity === undefined) return fail("expected 'all' or a number before 'of'");
      pos += 2;
      const target = tokens[pos];
      if (target === undefined || target === '(' || target === ')') {
        return fail("expected a selection pattern or 'them' after 'of'");
      }
      pos++;
      return { type: 'of', quantity, target: target.toLowerCase() === 'them' ? 'them' : target };
    }
    if (token === ')' || KEYWORDS.has(lower)) return fail('expected a selection');
    pos++;
    return { type: 'ref', name: token };
  };

  const tree = parseOr();
  if (pos < tokens.length) fail('unexpected token');
  return tree;
}
