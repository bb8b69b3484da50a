import {
  NON_RESERVED,
  DANGEROUS_NAMES,
  DANGEROUS_VARIABLE_PREFIX,
  STATEMENTS,
  TIME_FUNCTIONS,
} from './keywords.js';
import type { Token } from './tokenizer.js';

/** What the grammar check concluded about a value in one injection context. */
export interface Verdict {
  /** 0..1: how sure that the value changes the structure of the query it is placed in. */
  confidence: number;
  reason: string;
  /** Offset in the tokenized text where the structure-changing part starts. */
  start: number;
}

/** The quote a value is placed after: 0 for a bare (numeric) context, else `'` (39) or `"` (34). */
export type QuoteContext = 0 | 34 | 39;

/** What an expression (or a stretch of one) contains. */
interface Summary {
  /** Comparisons: `=`, `<>`, LIKE, IS, IN, BETWEEN, REGEXP… */
  cmp: number;
  /** Arithmetic and bitwise operators. */
  arith: number;
  /** Calls of functions not in the lists below. */
  fn: number;
  /** Calls or names that read the server's identity, catalogue or files. */
  danger: number;
  /** Calls that only make a response slow. */
  time: number;
  /** Subqueries. */
  sub: number;
  /** Literal numbers, strings, NULL, TRUE. */
  lit: number;
  /** Of which numbers. */
  num: number;
  /** Bare identifiers. */
  ids: number;
  /** Complete CASE … WHEN … THEN … END expressions. */
  cases: number;
}

function emptySummary(): Summary {
  return { cmp: 0, arith: 0, fn: 0, danger: 0, time: 0, sub: 0, lit: 0, num: 0, ids: 0, cases: 0 };
}

function merge(into: Summary, from: Summary): void {
  into.cmp += from.cmp;
  into.arith += from.arith;
  into.fn += from.fn;
  into.danger += from.danger;
  into.time += from.time;
  into.sub += from.sub;
  into.lit += from.lit;
  into.num += from.num;
  into.ids += from.ids;
  into.cases += from.cases;
}

const COMPARISONS = new Set(['=', '<>', '!=', '<', '>', '<=', '>=', '<=>', '!<', '!>']);
const ARITHMETIC = new Set([
  '+',
  '-',
  '*',
  '/',
  '%',
  '&',
  '|',
  '^',
  '<<',
  '>>',
  '::',
  '->',
  '->>',
  ':=',
]);
const LOGIC_WORDS = new Set(['AND', 'OR', 'XOR']);
const LOGIC_OPS = new Set(['&&', '||']);
const UNARY_OPS = new Set(['-', '+', '!', '~']);
const LITERAL_WORDS = new Set(['NULL', 'TRUE', 'FALSE', 'UNKNOWN']);
const CMP_WORDS = new Set(['LIKE', 'RLIKE', 'REGEXP', 'SIMILAR', 'GLOB']);

/** Nesting of parentheses parsed recursively; deeper nesting is read flat (no stack overflow). */
const MAX_DEPTH = 64;

/** Thrown inside the parser only, to unwind on a token that no continuation accepts. */
class Stop extends Error {}
/** One instance, made once: unwinding must not cost a stack trace per value. */
const STOP = new Stop('no continuation accepts this token');

/**
 * A small recursive-descent check of the tokens a value produces in one context: does the value
 * leave the literal it was placed in and go on as SQL a parser accepts? Linear in the number of
 * tokens: every step consumes a token or stops.
 */
class Judge {
  private readonly code: Token[];
  private pos = 0;
  private best: Verdict | null = null;
  /** Verdicts strong enough to stand even if what follows them does not parse. */
  private strongBest: Verdict | null = null;
  private readonly endsInComment: boolean;
  /** Where the value leaves its string (the closing quote): evidence starts there. */
  private leaveAt = Number.MAX_SAFE_INTEGER;
  /** Parentheses being parsed, for `MAX_DEPTH`. */
  private depth = 0;
  /** Set when a bare value is an expression followed by a comment. */
  private truncates: Token | null = null;

  private readonly context: QuoteContext;

  constructor(tokens: readonly Token[], context: QuoteContext) {
    this.context = context;
    this.code = tokens.filter((t) => t.type !== 'cmt');
    const last = tokens[tokens.length - 1];
    this.endsInComment = last !== undefined && last.type === 'cmt';
  }

  run(): Verdict | null {
    let parsed = false;
    try {
      this.value();
      parsed = this.pos >= this.code.length;
    } catch (e) {
      if (!(e instanceof Stop)) throw e;
    }
    if (parsed) return this.best;
    // What follows does not parse: only signals that need no continuation stand in full.
    const weak = this.best;
    if (this.strongBest) return this.strongBest;
    if (!weak) return null;
    return { ...weak, confidence: weak.confidence * 0.55 };
  }

  private signal(confidence: number, reason: string, at: Token | undefined, strong = false): void {
    const start = Math.min(at?.start ?? 0, this.leaveAt);
    const verdict = { confidence, reason, start };
    if (!this.best || confidence > this.best.confidence) this.best = verdict;
    if (strong && (!this.strongBest || confidence > this.strongBest.confidence)) {
      this.strongBest = verdict;
    }
  }

  private peek(offset = 0): Token | undefined {
    return this.code[this.pos + offset];
  }

  private isKw(t: Token | undefined, word: string): boolean {
    return t !== undefined && t.type === 'kw' && t.text === word;
  }

  private atEnd(): boolean {
    return this.pos >= this.code.length;
  }

  /** The whole value, placed in the context. */
  private value(): void {
    const first = this.peek();
    if (!first) return;
    if (this.context !== 0) {
      // The value starts inside a string; the tokenizer saw the context's quote first.
      if (first.type !== 'str' || !first.closed) return;
      this.pos++;
      this.leaveAt = first.end - 1;
      this.afterLiteral(first, true);
      return;
    }
    if (first.type === 'kw' && STATEMENTS.has(first.text)) {
      const conf = this.statement();
      if (conf > 0) this.signal(conf, 'is a whole SQL statement', first, conf >= 0.9);
      this.pos = this.code.length;
      return;
    }
    if (this.startsContinuation(first)) {
      this.afterLiteral(first, false);
      return;
    }
    const s = this.chainSummary(true);
    if (s.time > 0) this.signal(0.95, 'calls a time-delay function', first, true);
    else if (s.sub > 0) this.signal(0.9, 'is a subquery', first, true);
    else if (s.danger > 0 && s.fn + s.danger + s.cmp > 1)
      this.signal(0.9, 'reads the database catalogue or identity', first, true);
    else if (s.danger > 0) this.signal(0.7, 'reads the database catalogue or identity', first);
    else if (s.cases > 0) this.signal(0.9, 'is a CASE expression', first);
    if (this.endsInComment && this.code.length > 1) this.truncates = first;
    this.afterLiteral(first, false);
  }

  private startsContinuation(t: Token): boolean {
    if (t.type === 'kw') return LOGIC_WORDS.has(t.text) || t.text === 'UNION' || t.text === 'ORDER';
    if (t.type === 'op') return LOGIC_OPS.has(t.text);
    return t.type === ')' || t.type === ';';
  }

  /**
   * What follows the literal the value started in: more of the expression, outer parentheses
   * closed, clauses, a stacked statement, a comment.
   */
  private afterLiteral(literal: Token, leftString: boolean): void {
    const startTok = this.peek();
    let closedParens = 0;
    let segments = 0;
    let seg = emptySummary();
    // Operators applied to the literal itself (`'+sleep(1)+'`, `1-(select …)`).
    for (;;) {
      const t = this.peek();
      if (!t) break;
      if (t.type === ')') {
        this.pos++;
        closedParens++;
        continue;
      }
      if (t.type === ',') {
        // A value in a list (`IN (…)`, `LIMIT a,b`) continued by more items.
        this.pos++;
        const item = emptySummary();
        try {
          this.chain(item, true);
        } finally {
          this.judgeOperation(item, t, leftString, false);
        }
        merge(seg, item);
        continue;
      }
      const logic =
        (t.type === 'kw' && LOGIC_WORDS.has(t.text)) || (t.type === 'op' && LOGIC_OPS.has(t.text));
      if (logic) {
        this.pos++;
        segments++;
        const right = emptySummary();
        try {
          this.chain(right, true);
        } finally {
          // Judged even when what follows does not parse: strong signals stand on their own.
          this.judgeCondition(right, t, leftString);
        }
        seg = right;
        continue;
      }
      const before = this.pos;
      const s = emptySummary();
      if (this.binaryTail(s)) {
        merge(seg, s);
        this.judgeOperation(s, t, leftString, segments === 0);
        continue;
      }
      this.pos = before;
      break;
    }
    void seg;
    this.clauses(literal, leftString);
    if (closedParens > 0 && this.best === null && startTok) {
      // `1)` or `')` alone: leaves the literal but adds nothing a query would run.
      this.signal(0.3, 'closes parentheses it did not open', startTok);
    }
    if (
      this.truncates &&
      this.atEnd() &&
      (this.best === null || this.best.confidence < 0.9) &&
      this.code.some(
        (c) =>
          c.type === '(' ||
          c.type === 'fn' ||
          (c.type === 'op' && (COMPARISONS.has(c.text) || LOGIC_OPS.has(c.text))) ||
          (c.type === 'kw' && LOGIC_WORDS.has(c.text)),
      )
    ) {
      this.signal(0.9, 'is an expression that comments out the rest of the query', this.truncates);
    }
    if (leftString && this.best === null && this.atEnd() && this.endsInComment) {
      this.signal(0.6, 'closes a quoted string and comments out the rest of the query', literal);
    }
  }

  /** A condition added with AND/OR/XOR: how code-like is its right side? */
  private judgeCondition(s: Summary, op: Token, leftString: boolean): void {
    const cleanEnd = this.cleanEnd();
    if (s.time > 0) return this.signal(0.95, 'adds a condition that delays the response', op, true);
    if (s.sub > 0) return this.signal(0.95, 'adds a condition with a subquery', op, true);
    if (s.danger > 0)
      return this.signal(0.95, 'adds a condition that reads the catalogue', op, true);
    if (s.cmp > 0) {
      const code = s.lit + s.fn > 0;
      if (
        !leftString &&
        this.context === 0 &&
        this.code[0]?.type === 'id' &&
        s.ids > 0 &&
        s.fn === 0
      ) {
        // `price < 100 and rating > 4`, `x > 0 && y > 0`: a filter or a code snippet, names
        // compared with values. A numeric injection starts from a number and adds a constant
        // condition (`1 and 2>1`); one on names alone is only worth an alert.
        return this.signal(0.6, 'adds a boolean condition on names', op);
      }
      if (leftString || code) {
        return this.signal(
          cleanEnd ? 0.95 : 0.9,
          leftString
            ? 'closes a quoted string and adds a boolean condition'
            : 'adds a boolean condition',
          op,
        );
      }
      return this.signal(0.6, 'adds a boolean condition on names', op);
    }
    if (s.fn > 0) return this.signal(0.9, 'adds a condition with a function call', op);
    if (s.lit > 0 && s.ids === 0) {
      if (leftString) {
        // `' or 1`: a number is code. `A' OR 'B` reopens a string for the query's own quote to
        // close; in double quotes (`"this" or "that`) it is as likely a search query.
        return this.signal(
          s.num > 0 || this.endsInComment || (this.context === 39 && cleanEnd) ? 0.92 : 0.6,
          'closes a quoted string and adds a constant condition',
          op,
        );
      }
      if (this.endsInComment) {
        return this.signal(0.9, 'adds a constant condition and comments out the rest', op);
      }
      return this.signal(s.arith > 0 ? 0.6 : 0.45, 'adds a constant condition', op);
    }
    this.signal(leftString ? 0.45 : 0.25, 'adds a condition on a name', op);
  }

  /** An operator applied to the literal (or to the value's expression) other than AND/OR. */
  private judgeOperation(s: Summary, op: Token, leftString: boolean, firstSegment: boolean): void {
    if (s.time > 0)
      return this.signal(0.95, 'adds an expression that delays the response', op, true);
    if (s.sub > 0) return this.signal(0.95, 'adds a subquery to the expression', op, true);
    if (s.danger > 0)
      return this.signal(0.9, 'adds an expression that reads the catalogue', op, true);
    if (!leftString || !firstSegment) {
      if (this.endsInComment && this.atEnd() && s.fn + s.cmp > 0) {
        this.signal(0.9, 'adds an expression and comments out the rest', op);
      }
      return;
    }
    const clean = this.cleanEnd();
    if (s.fn > 0) {
      return this.signal(clean ? 0.9 : 0.7, 'closes a quoted string and calls a function', op);
    }
    if (clean && s.cmp > 0 && s.lit > 0) {
      // `' != '`, `A' LIKE 'B`, `x' = 1 --`: the comparison joins the query's string to another.
      // In double quotes (`"LIKE" STAMP`) this is as likely a quoted word.
      return this.signal(
        this.context === 39 ? 0.9 : 0.6,
        'closes a quoted string and compares it',
        op,
      );
    }
    if (clean && s.lit > 0 && s.ids === 0) {
      // `A' DIV 'B`, `' - '`: as above, only in single quotes.
      return this.signal(
        this.context === 39 ? 0.9 : 0.6,
        'closes a quoted string and applies an operator to it',
        op,
      );
    }
    this.signal(0.35, 'closes a quoted string and extends the expression', op);
  }

  /** Whether the continuation ends where the query's own rest would not break it. */
  private cleanEnd(): boolean {
    const last = this.code[this.code.length - 1];
    if (this.endsInComment) return true;
    if (this.context === 0) return true;
    return last !== undefined && last.type === 'str' && !last.closed && last.quote === this.context;
  }

  /** Clauses after the expression: UNION, ORDER BY, GROUP BY, HAVING, LIMIT, INTO, `;` … */
  private clauses(literal: Token, leftString: boolean): void {
    for (;;) {
      const t = this.peek();
      if (!t) return;
      if (t.type === ';') {
        while (this.peek()?.type === ';') this.pos++;
        const next = this.peek();
        if (!next) {
          if (leftString) this.signal(0.4, 'closes a quoted string and ends the statement', t);
          return;
        }
        const conf = this.stackedStatements();
        if (conf === 0) throw STOP;
        const stacked = conf >= 0.85 ? 0.95 : conf >= 0.6 ? 0.75 : 0.5;
        this.signal(stacked, 'stacks another statement', t, stacked >= 0.9);
        this.pos = this.code.length;
        return;
      }
      if (t.type !== 'kw') throw STOP;
      if (STATEMENTS.has(t.text) && t.text !== 'SET') {
        // MSSQL runs statements one after the other without a `;`.
        const conf = this.statement();
        if (conf >= 0.85) {
          this.signal(0.95, 'adds another statement', t, true);
          this.pos = this.code.length;
          return;
        }
        throw STOP;
      }
      switch (t.text) {
        case 'FOR': {
          this.pos++;
          if (!this.isKw(this.peek(), 'UPDATE')) throw STOP;
          this.pos++;
          continue;
        }
        case 'UNION': {
          this.pos++;
          let n = this.peek();
          if (this.isKw(n, 'ALL') || this.isKw(n, 'DISTINCT')) {
            this.pos++;
            n = this.peek();
          }
          while (n?.type === '(') {
            this.pos++;
            n = this.peek();
          }
          if (!n) {
            // `-1 union` (cut short by a length limit, or a probe): code after a number.
            this.signal(this.code[this.pos - 2]?.type === 'num' ? 0.9 : 0.6, 'adds a UNION', t);
            return;
          }
          if (!this.isKw(n, 'SELECT')) throw STOP;
          this.pos++;
          const list = this.selectList();
          const conf = list === 'code' ? 0.95 : list === 'empty' ? 0.9 : 0.7;
          this.signal(conf, 'adds a UNION SELECT', t, conf >= 0.9);
          // What follows a UNION SELECT is a query of the attacker's: no need to parse it.
          this.pos = this.code.length;
          return;
        }
        case 'ORDER':
        case 'GROUP': {
          this.pos++;
          if (!this.isKw(this.peek(), 'BY')) throw STOP;
          this.pos++;
          const s = emptySummary();
          this.list(s);
          const dir = this.peek();
          if (this.isKw(dir, 'ASC') || this.isKw(dir, 'DESC')) this.pos++;
          const conf = s.time + s.sub + s.danger > 0 ? 0.95 : s.lit + s.fn > 0 ? 0.9 : 0.6;
          this.signal(conf, `adds an ${t.text} BY clause`, t, conf > 0.9);
          continue;
        }
        case 'HAVING':
        case 'WHERE': {
          this.pos++;
          const s = emptySummary();
          try {
            this.chain(s, false);
          } finally {
            const strong = s.time + s.sub + s.danger > 0;
            const conf = strong ? 0.95 : s.cmp + s.fn > 0 ? 0.9 : 0.5;
            this.signal(conf, `adds a ${t.text} clause`, t, strong);
          }
          continue;
        }
        case 'LIMIT':
        case 'OFFSET': {
          this.pos++;
          const s = emptySummary();
          this.list(s);
          if (this.isKw(this.peek(), 'OFFSET')) {
            this.pos++;
            this.list(s);
          }
          this.signal(leftString ? 0.6 : 0.45, `adds a ${t.text} clause`, t);
          continue;
        }
        case 'INTO': {
          this.pos++;
          const n = this.peek();
          if (
            n &&
            (n.type === 'kw' || n.type === 'fn') &&
            (n.text === 'OUTFILE' || n.text === 'DUMPFILE')
          ) {
            this.signal(0.95, 'writes the result into a file', t, true);
            this.pos = this.code.length;
            return;
          }
          if (n?.type === 'var') {
            this.pos++;
            this.signal(0.7, 'stores the result in a variable', t);
            continue;
          }
          throw STOP;
        }
        case 'PROCEDURE': {
          this.pos++;
          if (this.peek()?.type !== 'fn') throw STOP;
          this.signal(0.95, 'adds a PROCEDURE clause', t, true);
          this.pos = this.code.length;
          return;
        }
        default:
          throw STOP;
      }
    }
  }

  /**
   * After SELECT: does the select list look like code (numbers, NULLs, calls, `*`, commas, a
   * catalogue name), nothing (a probe cut short), or words of prose (`select committee met`)?
   */
  private selectList(): 'code' | 'empty' | 'prose' {
    let k = this.pos;
    while (this.isKw(this.code[k], 'ALL') || this.isKw(this.code[k], 'DISTINCT')) k++;
    if (this.isKw(this.code[k], 'TOP')) return 'code';
    // `select /*!1 union select …`: a version comment ate the list; UNION SELECT is code.
    if (this.isKw(this.code[k], 'UNION') && this.isKw(this.code[k + 1], 'SELECT')) return 'code';
    const end = Math.min(this.code.length, k + 8);
    let idents = 0;
    for (; k < end; k++) {
      const t = this.code[k];
      if (!t) break;
      if (t.type === 'id' || (t.type === 'kw' && NON_RESERVED.has(t.text))) {
        if (DANGEROUS_NAMES.has(t.text)) return 'code';
        idents++;
        continue;
      }
      if (t.type === 'kw' && (t.text === 'AND' || t.text === 'OR' || t.text === 'IN'))
        return 'prose';
      if (t.type === 'kw' && !LITERAL_WORDS.has(t.text) && t.text !== 'FROM') {
        return idents > 0 ? 'code' : 'prose';
      }
      return 'code';
    }
    if (k >= this.code.length && (idents <= 1 || this.endsInComment)) return 'empty';
    return 'prose';
  }

  /**
   * The statements after a `;`, each after its own `;`: the confidence of the most code-like
   * one, 0 when the first is no statement at all.
   */
  private stackedStatements(): number {
    const from = this.pos;
    const first = this.peek();
    if (!first || (first.type !== 'kw' && first.type !== 'fn') || !STATEMENTS.has(first.text)) {
      return 0;
    }
    let best = 0;
    let depth = 0;
    let checked = 0;
    for (let k = from; k < this.code.length && best < 0.85 && checked < 16; k++) {
      const t = this.code[k];
      if (!t) break;
      if (t.type === '(') depth++;
      else if (t.type === ')') depth--;
      const startsStatement = k === from || (depth <= 0 && this.code[k - 1]?.type === ';');
      if (startsStatement && (t.type === 'kw' || t.type === 'fn') && STATEMENTS.has(t.text)) {
        this.pos = k;
        best = Math.max(best, this.statement());
        checked++;
      }
    }
    this.pos = from;
    return best;
  }

  /** A statement from the current token (SELECT, DROP, EXEC…): confidence it is real SQL. */
  private statement(): number {
    const first = this.peek();
    if (!first) return 0;
    const at = (k: number): Token | undefined => this.code[this.pos + k];
    const kwAt = (k: number, ...words: string[]): boolean => {
      const t = at(k);
      return t !== undefined && t.type === 'kw' && words.includes(t.text);
    };
    const nameAt = (k: number): boolean => {
      const t = at(k);
      return t !== undefined && (t.type === 'id' || t.type === 'fn');
    };
    switch (first.text) {
      case 'SELECT': {
        this.pos++;
        if (this.selectList() === 'prose') return 0;
        // A list of code and a FROM (a table), or calls of catalogue functions; prose has neither.
        let depth = 0;
        let sawCode = 0;
        let danger = false;
        for (let k = this.pos; k < this.code.length; k++) {
          const t = this.code[k];
          if (!t) break;
          if (t.type === '(') depth++;
          else if (t.type === ')') depth--;
          else if (t.type === 'num' || t.type === 'fn' || t.type === 'var' || t.text === '*') {
            sawCode++;
            if (DANGEROUS_NAMES.has(t.text) || TIME_FUNCTIONS.has(t.text)) danger = true;
          } else if (t.type === 'id' && DANGEROUS_NAMES.has(t.text)) danger = true;
          if (depth === 0 && t.type === 'kw' && t.text === 'FROM') {
            const n = this.code[k + 1];
            if (!n || (n.type !== 'id' && n.type !== '(' && n.type !== 'fn')) return 0.5;
            // `select x from y` may be a sentence about SQL; a list of code is not.
            return sawCode > 0 || danger || (n.type === 'id' && DANGEROUS_NAMES.has(n.text))
              ? 0.9
              : 0.7;
          }
        }
        return danger ? 0.95 : sawCode > 0 ? 0.9 : 0.5;
      }
      case 'DROP':
      case 'CREATE':
      case 'ALTER':
      case 'TRUNCATE':
      case 'RENAME':
        return kwAt(1, 'TABLE', 'DATABASE', 'USER', 'PROCEDURE', 'SCHEMA') ||
          (at(1)?.type === 'id' &&
            ['VIEW', 'INDEX', 'FUNCTION', 'TRIGGER', 'LOGIN'].includes(at(1)?.text ?? ''))
          ? 0.9
          : 0.4;
      case 'DELETE':
        return (kwAt(1, 'FROM') && nameAt(2)) || (kwAt(2, 'FROM') && nameAt(3)) ? 0.9 : 0.4;
      case 'INSERT':
      case 'REPLACE':
        return kwAt(1, 'INTO') && nameAt(2) ? 0.9 : 0.4;
      case 'UPDATE':
        return nameAt(1) && kwAt(2, 'SET') ? 0.9 : 0.4;
      case 'EXEC':
      case 'EXECUTE': {
        const t = at(1);
        const name = t?.text ?? '';
        if (t && (t.type === 'id' || t.type === 'fn')) {
          if (
            name.startsWith('MASTER') ||
            name.startsWith('XP_') ||
            name.startsWith('SP_') ||
            DANGEROUS_NAMES.has(name)
          )
            return 0.95;
          return 0.6;
        }
        if (t?.type === '(' || t?.type === 'var') return 0.9;
        // EXECUTE AS LOGIN|USER: impersonation.
        if (this.isKw(t, 'AS') && (at(2)?.text === 'LOGIN' || at(2)?.text === 'USER')) return 0.9;
        return 0.3;
      }
      case 'DECLARE':
        return at(1)?.type === 'var' ? 0.9 : 0.3;
      case 'WAITFOR':
        return kwAt(1, 'DELAY', 'TIME') && at(2)?.type === 'str' ? 0.95 : 0.4;
      case 'SHUTDOWN':
        return at(1) === undefined || kwAt(1, 'WITH') ? 0.9 : 0.3;
      case 'SET':
        return at(1)?.type === 'var' ? 0.8 : 0.3;
      case 'BEGIN':
      case 'GOTO': {
        // `begin declare …`, `goto label declare …`: what counts is the statement inside.
        let k = 1;
        if (first.text === 'GOTO' || at(1)?.text === 'TRY') k = 2;
        const inner = at(k);
        if (inner?.type === 'kw' && STATEMENTS.has(inner.text) && inner.text !== first.text) {
          this.pos += k;
          return this.statement();
        }
        return k === 2 && first.text === 'GOTO' ? 0.6 : 0.3;
      }
      case 'USE': {
        const n = at(2);
        return at(1)?.type === 'id' && n?.type === 'kw' && STATEMENTS.has(n.text) ? 0.9 : 0.4;
      }
      case 'IF': {
        // MSSQL's `IF cond statement`: only a statement later makes it one.
        for (let k = this.pos + 1; k < this.code.length; k++) {
          const t = this.code[k];
          if (t?.type === 'kw' && STATEMENTS.has(t.text) && t.text !== 'IF' && t.text !== 'SET') {
            return 0.9;
          }
        }
        return 0.2;
      }
      case 'LOAD':
        return at(1)?.type === 'id' ? 0.85 : 0.3;
      case 'CALL':
        return at(1)?.type === 'fn' ? 0.85 : 0.3;
      default:
        return 0.4;
    }
  }

  /** A comma-separated list of expressions. */
  private list(into: Summary): void {
    for (;;) {
      merge(into, this.chainSummary(true));
      if (this.peek()?.type !== ',') return;
      this.pos++;
    }
  }

  /**
   * An expression without AND/OR at its top (those are the caller's): operand (op operand)*.
   * With `stopAtLogic` false, AND/OR are consumed too.
   */
  private chainSummary(stopAtLogic = false): Summary {
    const s = emptySummary();
    this.chain(s, stopAtLogic);
    return s;
  }

  private chain(s: Summary, stopAtLogic: boolean): void {
    this.operand(s);
    for (;;) {
      const t = this.peek();
      if (!t) return;
      const logic =
        (t.type === 'kw' && LOGIC_WORDS.has(t.text)) || (t.type === 'op' && LOGIC_OPS.has(t.text));
      if (logic) {
        if (stopAtLogic) return;
        this.pos++;
        this.operand(s);
        continue;
      }
      const before = this.pos;
      if (!this.binaryTail(s)) {
        this.pos = before;
        return;
      }
    }
  }

  /** One binary operator (other than AND/OR) and its right operand; false if none is there. */
  private binaryTail(s: Summary): boolean {
    const t = this.peek();
    if (!t) return false;
    if (t.type === 'op') {
      if (COMPARISONS.has(t.text)) s.cmp++;
      else if (ARITHMETIC.has(t.text)) s.arith++;
      else return false;
      this.pos++;
      const n = this.peek();
      // `= ANY (…)`, `= ALL (…)`, `= SOME (…)`
      if (n && (n.text === 'ANY' || n.text === 'ALL' || n.text === 'SOME')) this.pos++;
      this.operand(s);
      return true;
    }
    if (t.type !== 'kw') return false;
    let word = t.text;
    let k = 1;
    if (word === 'NOT') {
      const n = this.peek(1);
      if (!n || n.type !== 'kw') return false;
      word = n.text;
      k = 2;
    }
    if (word === 'SOUNDS' && this.isKw(this.peek(k), 'LIKE')) {
      k++;
      word = 'LIKE';
    }
    if (CMP_WORDS.has(word)) {
      this.pos += k;
      s.cmp++;
      if (this.isKw(this.peek(), 'BINARY')) this.pos++;
      this.operand(s);
      if (this.isKw(this.peek(), 'ESCAPE')) {
        this.pos++;
        this.operand(s);
      }
      return true;
    }
    if (word === 'IS' && k === 1) {
      this.pos++;
      if (this.isKw(this.peek(), 'NOT')) this.pos++;
      s.cmp++;
      this.operand(s);
      return true;
    }
    if (word === 'IN') {
      this.pos += k;
      s.cmp++;
      if (this.peek()?.type !== '(') throw STOP;
      this.operand(s);
      return true;
    }
    if (word === 'BETWEEN') {
      this.pos += k;
      s.cmp++;
      this.operand(s);
      if (!this.isKw(this.peek(), 'AND')) throw STOP;
      this.pos++;
      this.operand(s);
      return true;
    }
    if ((word === 'DIV' || word === 'MOD') && k === 1) {
      this.pos++;
      s.arith++;
      this.operand(s);
      return true;
    }
    if (word === 'COLLATE' && k === 1) {
      this.pos++;
      const n = this.peek();
      if (!n || (n.type !== 'id' && n.type !== 'str')) throw STOP;
      this.pos++;
      return true;
    }
    return false;
  }

  /** One operand: a literal, a name, a call, a parenthesised expression or subquery, CASE… */
  private operand(s: Summary): void {
    let t = this.peek();
    while (
      t &&
      ((t.type === 'op' && UNARY_OPS.has(t.text)) || this.isKw(t, 'NOT') || this.isKw(t, 'BINARY'))
    ) {
      this.pos++;
      t = this.peek();
    }
    if (!t) {
      if (this.context === 0) throw STOP;
      return;
    }
    switch (t.type) {
      case 'num':
        this.pos++;
        s.lit++;
        s.num++;
        return;
      case 'str':
        if (!t.closed && (t.quote !== this.context || this.pos !== this.code.length - 1))
          throw STOP;
        this.pos++;
        s.lit++;
        return;
      case 'var':
        this.pos++;
        if (t.text.startsWith(DANGEROUS_VARIABLE_PREFIX)) s.danger++;
        else s.ids++;
        return;
      case 'id': {
        this.pos++;
        let dangerous = DANGEROUS_NAMES.has(t.text) && t.text !== 'USER' && t.text !== 'DATABASE';
        while (this.peek()?.type === '.') {
          this.pos++;
          const n = this.peek();
          if (!n || (n.type !== 'id' && n.type !== 'fn' && n.type !== 'kw' && n.text !== '*'))
            throw STOP;
          if (n.type === 'fn') {
            this.call(s);
            if (dangerous) s.danger++;
            return;
          }
          this.pos++;
          if (DANGEROUS_NAMES.has(n.text) && n.text !== 'USER') dangerous = true;
        }
        if (dangerous) s.danger++;
        else s.ids++;
        return;
      }
      case 'fn':
        this.call(s);
        return;
      case '(':
        this.parenthesised(s);
        return;
      case 'kw':
        if (NON_RESERVED.has(t.text)) {
          this.pos++;
          s.ids++;
          return;
        }
        if (LITERAL_WORDS.has(t.text)) {
          this.pos++;
          s.lit++;
          return;
        }
        if (t.text === 'CASE') {
          const start = this.pos;
          this.skipUntil('END', s);
          s.fn++;
          const last = this.code[this.pos - 1];
          if (last && last.type === 'kw' && last.text === 'END' && this.pos - start >= 5) s.cases++;
          return;
        }
        if (t.text === 'EXISTS') {
          this.pos++;
          if (this.peek()?.type !== '(') throw STOP;
          this.parenthesised(s);
          return;
        }
        if (t.text === 'SELECT') {
          // MySQL accepts a bare subquery in few places, but payloads rely on lenient engines.
          // `msg=select the best or the worst` is a sentence, not a subquery.
          this.pos++;
          if (this.selectList() === 'prose') throw STOP;
          s.sub++;
          this.pos = this.code.length;
          return;
        }
        throw STOP;
      default:
        throw STOP;
    }
  }

  private call(s: Summary): void {
    const t = this.peek();
    if (!t) return;
    this.pos++;
    if (TIME_FUNCTIONS.has(t.text)) s.time++;
    else if (DANGEROUS_NAMES.has(t.text)) s.danger++;
    else s.fn++;
    if (this.peek()?.type === '(') this.skipBalanced(s);
  }

  /** `( … )`: a subquery, an expression list or one expression; EOF may stand for the `)`. */
  private parenthesised(s: Summary): void {
    this.pos++;
    const n = this.peek();
    if (!n) return;
    if (++this.depth > MAX_DEPTH) {
      // Deeper than any query needs: read the rest flat rather than recurse.
      this.pos--;
      this.skipBalanced(s);
      this.depth--;
      return;
    }
    try {
      this.parenthesisedInner(s);
    } finally {
      this.depth--;
    }
  }

  private parenthesisedInner(s: Summary): void {
    let n = this.peek();
    if (!n) return;
    if (n.type === ')') {
      this.pos++;
      return;
    }
    if (this.isKw(n, 'SELECT') || n.type === '(') {
      // Nested parentheses around a subquery, or a subquery: read to the matching `)`.
      this.pos--;
      this.skipBalanced(s);
      return;
    }
    this.list(s);
    n = this.peek();
    if (!n) return;
    // Inside parentheses AND/OR continue the same expression.
    while (
      n &&
      ((n.type === 'kw' && LOGIC_WORDS.has(n.text)) || (n.type === 'op' && LOGIC_OPS.has(n.text)))
    ) {
      this.pos++;
      this.list(s);
      n = this.peek();
    }
    if (!n) return;
    if (n.type !== ')') throw STOP;
    this.pos++;
  }

  /** From a `(` to its matching `)` (or the end), noting calls, names and subqueries inside. */
  private skipBalanced(s: Summary): void {
    let depth = 0;
    while (this.pos < this.code.length) {
      const t = this.code[this.pos++];
      if (!t) break;
      if (t.type === '(') depth++;
      else if (t.type === ')') {
        depth--;
        if (depth <= 0) return;
      } else this.note(t, s);
    }
  }

  private skipUntil(word: string, s: Summary): void {
    let depth = 0;
    while (this.pos < this.code.length) {
      const t = this.code[this.pos++];
      if (!t) break;
      if (t.type === 'kw' && t.text === 'CASE') depth++;
      else if (t.type === 'kw' && t.text === word) {
        depth--;
        if (depth <= 0) return;
      } else this.note(t, s);
    }
  }

  private note(t: Token, s: Summary): void {
    if (t.type === 'fn') {
      if (TIME_FUNCTIONS.has(t.text)) s.time++;
      else if (DANGEROUS_NAMES.has(t.text)) s.danger++;
      else s.fn++;
    } else if (t.type === 'kw' && t.text === 'SELECT') s.sub++;
    else if (t.type === 'var' && t.text.startsWith(DANGEROUS_VARIABLE_PREFIX)) s.danger++;
    else if (t.type === 'id' && DANGEROUS_NAMES.has(t.text) && t.text !== 'USER') s.danger++;
    else if (t.type === 'num' || t.type === 'str') s.lit++;
    else if (t.type === 'op' && COMPARISONS.has(t.text)) s.cmp++;
  }
}

/** Judges the tokens of a value placed in `context`; null when it stays a literal. */
export function judge(tokens: readonly Token[], context: QuoteContext): Verdict | null {
  return new Judge(tokens, context).run();
}
