import { ErrorCode, MamoriError } from '@mamori/common';
import {
  BINARY_OPERATORS,
  LIST_OPERATORS,
  TRANSFORMERS,
  type BinaryOperator,
  type ConditionNode,
  type FieldRef,
  type Literal,
  type Operand,
  type Transformer,
} from './ast.js';

// Nesting deeper than this is not a rule anyone writes; the limit keeps a hostile condition
// from exhausting the stack of the (recursive-descent) parser and of the compiler after it.
const MAX_DEPTH = 256;

// Word operators, longest first so that `intersects` is not read as `in`.
const WORD_OPERATORS = BINARY_OPERATORS.filter((op) => op.charCodeAt(0) >= 97).sort(
  (a, b) => b.length - a.length,
);
const TRANSFORMER_NAMES = new Set<string>(TRANSFORMERS);

/**
 * Parses a Falco condition into a tree. Macro names stay unresolved (`macro` nodes) and list
 * names stay as bare list items: both are resolved when rules are compiled, after every file
 * is loaded, as Falco does. Runs in time linear in the length of `text`.
 * @throws MamoriError `MAMORI_RULE_SYNTAX` with `context.position` (0-based offset) and the
 * 1-based column in the message.
 */
export function parseCondition(text: string): ConditionNode {
  const parser = new Parser(text);
  const node = parser.parseExpression(0);
  parser.skipSpace();
  if (!parser.atEnd()) parser.fail(`unexpected '${parser.peekWord()}'`);
  return node;
}

/**
 * Parses a field expression alone (`proc.name`, `tolower(fd.name)`), as exceptions name them.
 * @throws MamoriError `MAMORI_RULE_SYNTAX` when `text` is not exactly one field expression.
 */
export function parseFieldExpression(text: string): FieldRef {
  const parser = new Parser(text);
  parser.skipSpace();
  const field = parser.parseFieldRef();
  parser.skipSpace();
  if (!parser.atEnd()) parser.fail(`unexpected '${parser.peekWord()}' after field`);
  return field;
}

/** Throws a syntax error at `pos` of a condition. */
export function syntaxError(message: string, pos: number): never {
  throw new MamoriError(ErrorCode.RuleSyntax, `${message} at column ${pos + 1}`, {
    context: { position: pos },
  });
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13 || c === 12 || c === 11;
}

/** Characters of field and macro names: letters, digits, `_`, `.`, `-`. */
function isNameChar(c: number): boolean {
  return (
    (c >= 97 && c <= 122) ||
    (c >= 65 && c <= 90) ||
    (c >= 48 && c <= 57) ||
    c === 95 ||
    c === 46 ||
    c === 45
  );
}

/** Bare (unquoted) values end at white space, parentheses and commas, as in Falco. */
function isBareChar(c: number): boolean {
  return !isSpace(c) && c !== 40 && c !== 41 && c !== 44 && !Number.isNaN(c);
}

class Parser {
  private pos = 0;
  private readonly text: string;

  constructor(text: string) {
    this.text = text;
  }

  atEnd(): boolean {
    return this.pos >= this.text.length;
  }

  fail(message: string, at = this.pos): never {
    syntaxError(message, at);
  }

  skipSpace(): void {
    while (this.pos < this.text.length && isSpace(this.text.charCodeAt(this.pos))) this.pos++;
  }

  private code(offset = 0): number {
    return this.text.charCodeAt(this.pos + offset);
  }

  /** The next few characters, for messages. */
  peekWord(): string {
    let end = this.pos;
    while (end < this.text.length && end - this.pos < 20 && isBareChar(this.text.charCodeAt(end)))
      end++;
    return end === this.pos ? this.text.charAt(this.pos) : this.text.slice(this.pos, end);
  }

  /** True when the keyword `word` is next and ends at a word boundary. */
  private atKeyword(word: string): boolean {
    if (!this.text.startsWith(word, this.pos)) return false;
    const after = this.code(word.length);
    return Number.isNaN(after) || !isNameChar(after);
  }

  parseExpression(depth: number): ConditionNode {
    if (depth > MAX_DEPTH) this.fail('condition nested too deeply');
    const first = this.parseAnd(depth);
    const children = [first];
    for (;;) {
      this.skipSpace();
      if (!this.atKeyword('or')) break;
      this.pos += 2;
      children.push(this.parseAnd(depth));
    }
    return children.length === 1 ? first : { type: 'or', children };
  }

  private parseAnd(depth: number): ConditionNode {
    const first = this.parseNot(depth);
    const children = [first];
    for (;;) {
      this.skipSpace();
      if (!this.atKeyword('and')) break;
      this.pos += 3;
      children.push(this.parseNot(depth));
    }
    return children.length === 1 ? first : { type: 'and', children };
  }

  private parseNot(depth: number): ConditionNode {
    this.skipSpace();
    if (this.atKeyword('not')) {
      if (depth > MAX_DEPTH) this.fail('condition nested too deeply');
      this.pos += 3;
      return { type: 'not', child: this.parseNot(depth + 1) };
    }
    return this.parsePrimary(depth);
  }

  private parsePrimary(depth: number): ConditionNode {
    this.skipSpace();
    if (this.atEnd()) this.fail('unexpected end of condition');
    if (this.code() === 40 /* ( */) {
      const open = this.pos;
      this.pos++;
      const inner = this.parseExpression(depth + 1);
      this.skipSpace();
      if (this.code() !== 41) this.fail(`missing ')' for the '(' of column ${open + 1}`);
      this.pos++;
      return inner;
    }
    const start = this.pos;
    const name = this.readName();
    if (name === '') this.fail(`unexpected '${this.peekWord()}'`);
    if (name === 'and' || name === 'or') this.fail(`unexpected '${name}'`, start);
    this.skipSpace();
    const c = this.code();
    // A name without a dot that is not followed by an operator or `(` is a macro reference.
    if (!name.includes('.') && c !== 40 && c !== 91 && !this.atOperator()) {
      return { type: 'macro', name, pos: start };
    }
    this.pos = start;
    const field = this.parseFieldRef();
    return this.parseCheck(field);
  }

  private readName(): string {
    const start = this.pos;
    while (this.pos < this.text.length && isNameChar(this.code())) this.pos++;
    return this.text.slice(start, this.pos);
  }

  /** True when an operator (symbolic or word) starts at the cursor. */
  private atOperator(): boolean {
    const c = this.code();
    if (c === 61 || c === 60 || c === 62) return true; // = < >
    if (c === 33 && this.code(1) === 61) return true; // !=
    for (const op of WORD_OPERATORS) if (this.atKeyword(op)) return true;
    return this.atKeyword('exists');
  }

  parseFieldRef(): FieldRef {
    const start = this.pos;
    const name = this.readName();
    if (name === '') this.fail(`expected a field, found '${this.peekWord()}'`);
    if (this.code() === 40 /* ( */) {
      if (!TRANSFORMER_NAMES.has(name)) this.fail(`unknown transformer '${name}'`, start);
      this.pos++;
      this.skipSpace();
      const inner = this.parseFieldRef();
      this.skipSpace();
      if (this.code() !== 41) this.fail(`missing ')' after ${name}(`);
      this.pos++;
      return {
        name: inner.name,
        ...(inner.arg === undefined ? {} : { arg: inner.arg }),
        transformers: [name as Transformer, ...inner.transformers],
        pos: start,
      };
    }
    if (!name.includes('.'))
      this.fail(`'${name}' is not a field (fields look like proc.name)`, start);
    if (this.code() === 91 /* [ */) {
      const close = this.text.indexOf(']', this.pos + 1);
      if (close < 0) this.fail(`missing ']' in field ${name}`);
      const arg = this.text.slice(this.pos + 1, close);
      this.pos = close + 1;
      return { name, arg, transformers: [], pos: start };
    }
    return { name, transformers: [], pos: start };
  }

  private parseCheck(field: FieldRef): ConditionNode {
    this.skipSpace();
    const at = this.pos;
    if (this.atKeyword('exists')) {
      this.pos += 6;
      return { type: 'check', field, op: 'exists', pos: field.pos };
    }
    const op = this.readOperator();
    if (op === undefined) {
      this.fail(
        this.atEnd()
          ? `expected an operator after ${field.name}`
          : `expected an operator after ${field.name}, found '${this.peekWord()}'`,
        at,
      );
    }
    this.skipSpace();
    return { type: 'check', field, op, operand: this.parseOperand(op), pos: field.pos };
  }

  private readOperator(): BinaryOperator | undefined {
    const c = this.code();
    const next = this.code(1);
    if (c === 61) {
      this.pos += next === 61 ? 2 : 1; // `==` is accepted as `=`
      return '=';
    }
    if (c === 33 && next === 61) {
      this.pos += 2;
      return '!=';
    }
    if (c === 60 || c === 62) {
      const withEq = next === 61;
      this.pos += withEq ? 2 : 1;
      return ((c === 60 ? '<' : '>') + (withEq ? '=' : '')) as BinaryOperator;
    }
    for (const op of WORD_OPERATORS) {
      if (this.atKeyword(op)) {
        this.pos += op.length;
        return op;
      }
    }
    return undefined;
  }

  private parseOperand(op: BinaryOperator): Operand {
    if (this.atEnd()) this.fail(`expected a value after '${op}'`);
    if (LIST_OPERATORS.has(op)) {
      if (this.code() !== 40) this.fail(`'${op}' needs a list such as (a, b)`);
      return { kind: 'list', items: this.parseList() };
    }
    if (this.atKeyword('val') && this.code(3) === 40) {
      this.pos += 4;
      this.skipSpace();
      const field = this.parseFieldRef();
      this.skipSpace();
      if (this.code() !== 41) this.fail(`missing ')' after val(`);
      this.pos++;
      return { kind: 'field', field };
    }
    if (this.code() === 40) this.fail(`'${op}' takes one value, not a list`);
    return { kind: 'literal', value: this.parseValue() };
  }

  private parseList(): Literal[] {
    const open = this.pos;
    this.pos++; // (
    const items: Literal[] = [];
    this.skipSpace();
    if (this.code() === 41) {
      this.pos++;
      return items;
    }
    for (;;) {
      this.skipSpace();
      if (this.atEnd()) this.fail(`missing ')' for the list of column ${open + 1}`);
      items.push(this.parseValue());
      this.skipSpace();
      const c = this.code();
      if (c === 44) {
        this.pos++;
        continue;
      }
      if (c === 41) {
        this.pos++;
        return items;
      }
      if (this.atEnd()) this.fail(`missing ')' for the list of column ${open + 1}`);
      this.fail(`expected ',' or ')' in list, found '${this.peekWord()}'`);
    }
  }

  private parseValue(): Literal {
    const c = this.code();
    if (c === 34 || c === 39) return { text: this.parseQuoted(c), quoted: true };
    const start = this.pos;
    while (this.pos < this.text.length && isBareChar(this.code())) this.pos++;
    if (this.pos === start) this.fail(`expected a value, found '${this.peekWord()}'`);
    return { text: this.text.slice(start, this.pos), quoted: false };
  }

  private parseQuoted(quote: number): string {
    const open = this.pos;
    this.pos++;
    let out = '';
    let chunk = this.pos;
    while (this.pos < this.text.length) {
      const c = this.code();
      if (c === quote) {
        out += this.text.slice(chunk, this.pos);
        this.pos++;
        return out;
      }
      if (c === 92 /* \ */ && this.pos + 1 < this.text.length) {
        out += this.text.slice(chunk, this.pos);
        // Only quotes and backslashes are escapes: anything else keeps its backslash, so
        // that a regex such as '\.sh$' reaches the regex operator as written.
        const e = this.text.charCodeAt(this.pos + 1);
        out +=
          e === 34 || e === 39 || e === 92
            ? this.text.charAt(this.pos + 1)
            : this.text.slice(this.pos, this.pos + 2);
        this.pos += 2;
        chunk = this.pos;
        continue;
      }
      this.pos++;
    }
    this.fail('unterminated string', open);
  }
}
