import { KEYWORDS, KEYWORDS_BEFORE_PAREN } from './keywords.js';

/**
 * Token types: string, number, keyword, function (a name followed by `(`), identifier,
 * variable (`@x`, `@@x`), operator, comment, the punctuation characters themselves, and `?` for
 * a character no SQL dialect gives a meaning to.
 */
export type TokenType =
  'str' | 'num' | 'kw' | 'fn' | 'id' | 'var' | 'op' | 'cmt' | '(' | ')' | ',' | ';' | '.' | '?';

/** One token: its type, its text (upper-cased for words and variables) and where it lies. */
export interface Token {
  type: TokenType;
  /** Upper-cased for words, variables and operators; the content for strings; '' for comments. */
  text: string;
  start: number;
  end: number;
  /** For strings and block comments: whether the closing delimiter was there. */
  closed: boolean;
  /** For strings: the quote character's code (39 `'`, 34 `"`). */
  quote: number;
}

/** Options of `tokenize`. */
export interface TokenizeOptions {
  /**
   * Whether a backslash escapes the next character inside a string (MySQL's default; PostgreSQL's
   * standard strings and MSSQL take it literally).
   * @default true
   */
  backslashEscapes?: boolean;
  /**
   * Stop after this many tokens (a quick look at how a value starts).
   * @default Infinity
   */
  maxTokens?: number;
}

const SQ = 39; // '
const DQ = 34; // "
const BT = 96; // `
const BS = 92; // \

function isSpace(c: number): boolean {
  return c <= 32 || c === 0xa0 || c === 0x7f;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function isWordChar(c: number): boolean {
  return (
    (c >= 97 && c <= 122) ||
    (c >= 65 && c <= 90) ||
    isDigit(c) ||
    c === 95 || // _
    c === 36 || // $
    (c > 127 && c !== 0xa0)
  );
}

function isHexDigit(c: number): boolean {
  return isDigit(c) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
}

/** Three-, then two-character operators, longest first. */
const OPERATORS_3 = new Set(['<=>', '->>']);
const OPERATORS_2 = new Set([
  '<=',
  '>=',
  '<>',
  '!=',
  '<<',
  '>>',
  '||',
  '&&',
  ':=',
  '!<',
  '!>',
  '::',
  '->',
  '^=',
  '|=',
  '&=',
  '+=',
  '-=',
  '*=',
  '/=',
]);
const OPERATOR_CHARS = '=<>!|&^~+-*/%:';

function makeToken(type: TokenType, text: string, start: number, end: number): Token {
  return { type, text, start, end, closed: true, quote: 0 };
}

/**
 * Tokenizes `src` as a SQL engine's lexer would, in one pass (linear time), without throwing.
 * MySQL's `/*! … *\/` version comments are read as code; other comments become `cmt` tokens.
 */
export function tokenize(src: string, options: TokenizeOptions = {}): Token[] {
  const backslash = options.backslashEscapes ?? true;
  const maxTokens = options.maxTokens ?? Infinity;
  const tokens: Token[] = [];
  const n = src.length;
  let i = 0;
  while (i < n && tokens.length < maxTokens) {
    const c = src.charCodeAt(i);
    if (isSpace(c)) {
      i++;
      continue;
    }
    const start = i;
    if (c === SQ || c === DQ) {
      i = readString(src, i + 1, c, backslash, tokens, start);
      continue;
    }
    if (c === BT) {
      let j = i + 1;
      while (j < n && src.charCodeAt(j) !== BT) j++;
      const tok = makeToken('id', src.slice(i + 1, j).toUpperCase(), start, Math.min(j + 1, n));
      tok.closed = j < n;
      tokens.push(tok);
      i = j + 1;
      continue;
    }
    if (isDigit(c) || (c === 46 && i + 1 < n && isDigit(src.charCodeAt(i + 1)))) {
      i = readNumber(src, i, tokens);
      continue;
    }
    if (c === 36 && i + 1 < n) {
      // PostgreSQL's dollar quoting: $$…$$ or $tag$…$tag$.
      let j = i + 1;
      while (j < n && src.charCodeAt(j) !== 36 && isWordChar(src.charCodeAt(j))) j++;
      if (src.charCodeAt(j) === 36) {
        const tag = src.slice(i, j + 1);
        const close = src.indexOf(tag, j + 1);
        const tok = makeToken('str', src.slice(j + 1, close < 0 ? n : close), start, n);
        tok.closed = close >= 0;
        tok.quote = 36;
        tok.end = close < 0 ? n : close + tag.length;
        tokens.push(tok);
        i = tok.end;
        continue;
      }
    }
    if (isWordChar(c)) {
      i = readWord(src, i, backslash, tokens);
      continue;
    }
    if (c === BS && (src.charCodeAt(i + 1) === 78 || src.charCodeAt(i + 1) === 110)) {
      // MySQL's \N is NULL.
      tokens.push(makeToken('kw', 'NULL', start, i + 2));
      i += 2;
      continue;
    }
    if (c === 64) {
      // @name, @@name, @'quoted'
      let j = i + 1;
      if (j < n && src.charCodeAt(j) === 64) j++;
      const nameStart = j;
      while (j < n && (isWordChar(src.charCodeAt(j)) || src.charCodeAt(j) === 46)) j++;
      if (j === nameStart) {
        tokens.push(makeToken('?', '@', start, j));
      } else {
        tokens.push(makeToken('var', src.slice(start, j).toUpperCase(), start, j));
      }
      i = j;
      continue;
    }
    if (c === 45 && src.charCodeAt(i + 1) === 45) {
      i = lineComment(src, i, tokens);
      continue;
    }
    if (c === 35) {
      i = lineComment(src, i, tokens);
      continue;
    }
    if (c === 47 && src.charCodeAt(i + 1) === 42) {
      if (src.charCodeAt(i + 2) === 33) {
        // MySQL runs the content of /*! … */ (optionally after a version number) as code.
        let j = i + 3;
        while (j < n && j < i + 9 && isDigit(src.charCodeAt(j))) j++;
        i = j;
        continue;
      }
      const close = src.indexOf('*/', i + 2);
      const tok = makeToken('cmt', '', start, close < 0 ? n : close + 2);
      tok.closed = close >= 0;
      tokens.push(tok);
      i = tok.end;
      continue;
    }
    if (c === 42 && src.charCodeAt(i + 1) === 47) {
      // The end of a version comment (or a stray one): no token.
      i += 2;
      continue;
    }
    if (c === 40 || c === 41 || c === 44 || c === 59 || c === 46) {
      tokens.push(makeToken(src[i] as TokenType, src[i] ?? '', start, i + 1));
      i++;
      continue;
    }
    if (OPERATOR_CHARS.includes(src[i] ?? '')) {
      const three = src.slice(i, i + 3);
      const two = src.slice(i, i + 2);
      const op = OPERATORS_3.has(three) ? three : OPERATORS_2.has(two) ? two : (src[i] ?? '');
      tokens.push(makeToken('op', op, start, i + op.length));
      i += op.length;
      continue;
    }
    tokens.push(makeToken('?', src[i] ?? '', start, i + 1));
    i++;
  }
  return tokens;
}

function readString(
  src: string,
  from: number,
  quote: number,
  backslash: boolean,
  tokens: Token[],
  start: number,
): number {
  const n = src.length;
  let j = from;
  let closed = false;
  while (j < n) {
    const c = src.charCodeAt(j);
    if (c === BS && backslash) {
      j += 2;
      continue;
    }
    if (c === quote) {
      if (src.charCodeAt(j + 1) === quote) {
        j += 2;
        continue;
      }
      closed = true;
      break;
    }
    j++;
  }
  const end = Math.min(j, n);
  const tok = makeToken('str', src.slice(from, end), start, closed ? end + 1 : n);
  tok.closed = closed;
  tok.quote = quote;
  tokens.push(tok);
  return tok.end;
}

function lineComment(src: string, i: number, tokens: Token[]): number {
  let j = i;
  const n = src.length;
  while (j < n && src.charCodeAt(j) !== 10 && src.charCodeAt(j) !== 13) j++;
  tokens.push(makeToken('cmt', '', i, j));
  return j;
}

function readNumber(src: string, i: number, tokens: Token[]): number {
  const n = src.length;
  const start = i;
  let j = i;
  const c1 = src.charCodeAt(i + 1);
  if (src.charCodeAt(i) === 48 && (c1 === 120 || c1 === 88)) {
    j = i + 2;
    while (j < n && isHexDigit(src.charCodeAt(j))) j++;
  } else if (
    src.charCodeAt(i) === 48 &&
    (c1 === 98 || c1 === 66) &&
    (src.charCodeAt(i + 2) === 48 || src.charCodeAt(i + 2) === 49)
  ) {
    j = i + 2;
    while (j < n && (src.charCodeAt(j) === 48 || src.charCodeAt(j) === 49)) j++;
  } else {
    while (j < n && isDigit(src.charCodeAt(j))) j++;
    if (src.charCodeAt(j) === 46) {
      j++;
      while (j < n && isDigit(src.charCodeAt(j))) j++;
    }
    const e = src.charCodeAt(j);
    if (e === 101 || e === 69) {
      let k = j + 1;
      const sign = src.charCodeAt(k);
      if (sign === 43 || sign === 45) k++;
      if (isDigit(src.charCodeAt(k))) {
        while (k < n && isDigit(src.charCodeAt(k))) k++;
        j = k;
      } else if (!isWordChar(src.charCodeAt(k))) {
        // MySQL reads `1e` and `1.e` as numbers: a known way to glue a number to a keyword.
        j = k;
      }
    }
  }
  if (j < n && isWordChar(src.charCodeAt(j))) {
    // Letters glued to a number: a keyword after a number (`1union`), or one identifier (`1st`).
    let k = j;
    while (k < n && isWordChar(src.charCodeAt(k))) k++;
    const word = src.slice(j, k).toUpperCase();
    if (!KEYWORDS.has(word)) {
      tokens.push(makeToken('id', src.slice(start, k).toUpperCase(), start, k));
      return k;
    }
  }
  tokens.push(makeToken('num', src.slice(start, j), start, j));
  return j;
}

function readWord(src: string, i: number, backslash: boolean, tokens: Token[]): number {
  const n = src.length;
  let j = i;
  while (j < n && isWordChar(src.charCodeAt(j))) j++;
  const word = src.slice(i, j).toUpperCase();
  const next = src.charCodeAt(j);
  if (
    next === SQ &&
    (word === 'N' || word === 'X' || word === 'B' || word === 'E' || word.startsWith('_'))
  ) {
    // N'…', X'…', _utf8'…': a string with a prefix.
    return readString(src, j + 1, SQ, backslash, tokens, i);
  }
  let k = j;
  while (k < n && isSpace(src.charCodeAt(k))) k++;
  const isKeyword = KEYWORDS.has(word);
  if (src.charCodeAt(k) === 40 && !(isKeyword && KEYWORDS_BEFORE_PAREN.has(word))) {
    tokens.push(makeToken('fn', word, i, j));
  } else {
    tokens.push(makeToken(isKeyword ? 'kw' : 'id', word, i, j));
  }
  return j;
}
