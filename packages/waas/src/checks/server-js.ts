import type { Detector, Finding, InspectedValue } from '../types.js';
import { finding } from './util.js';

/**
 * Server-side JavaScript injection into a MongoDB `$where`, `mapReduce` or `$function` string
 * (category `nosqli`): the value leaves the string or number it was placed in (`'`, `"`, a
 * literal, then `;`) and goes on as JavaScript statements the database runs — a busy loop, a
 * sleep, a variable declared from a call, a `return` of a constant, a call of the shell API
 * (`db.users.drop()`). Prose has semicolons and the words "let", "do" and "return", but not
 * followed by JavaScript's punctuation.
 */

/** Tokens read after the breakout: a statement is judged from its first few. */
const MAX_TOKENS = 256;
/** Characters before the first `;` that may still be the literal the value was placed in. */
const MAX_PREFIX = 24;

/** The MongoDB shell's collection methods that write, read or run code. */
const SHELL_METHODS: ReadonlySet<string> = new Set([
  'insert',
  'insertone',
  'insertmany',
  'update',
  'updateone',
  'updatemany',
  'replaceone',
  'remove',
  'deleteone',
  'deletemany',
  'drop',
  'find',
  'findone',
  'findandmodify',
  'findoneandupdate',
  'findoneanddelete',
  'aggregate',
  'mapreduce',
  'count',
  'save',
  'renamecollection',
  'createindex',
]);

/** Methods of `db` itself that run commands or reach other databases. */
const DB_METHODS: ReadonlySet<string> = new Set([
  'dropdatabase',
  'eval',
  'runcommand',
  'admincommand',
  'getsiblingdb',
  'getcollection',
  'getcollectionnames',
  'createuser',
  'shutdownserver',
]);

interface Tok {
  /** An identifier or keyword (lower-cased), a number, or one punctuation character. */
  text: string;
  kind: 'word' | 'num' | 'punct';
  start: number;
}

function isIdentStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c === 36;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** Tokens of `s` from `from`, at most `MAX_TOKENS`; quotes are punctuation (strings are not read). */
function tokenize(s: string, from: number): Tok[] {
  const out: Tok[] = [];
  let i = from;
  const n = s.length;
  while (i < n && out.length < MAX_TOKENS) {
    const c = s.charCodeAt(i);
    if (c <= 32) {
      i++;
      continue;
    }
    const start = i;
    if (isIdentStart(c)) {
      while (i < n && (isIdentStart(s.charCodeAt(i)) || isDigit(s.charCodeAt(i)))) i++;
      out.push({ text: s.slice(start, i).toLowerCase(), kind: 'word', start });
    } else if (isDigit(c)) {
      while (i < n && (isDigit(s.charCodeAt(i)) || s.charCodeAt(i) === 46)) i++;
      out.push({ text: s.slice(start, i), kind: 'num', start });
    } else {
      out.push({ text: s[i]!, kind: 'punct', start });
      i++;
    }
  }
  return out;
}

/** Whether `toks[k]` is a word with this text. */
function wordAt(toks: readonly Tok[], k: number, text: string): boolean {
  const t = toks[k];
  return t !== undefined && t.kind === 'word' && t.text === text;
}

function punctAt(toks: readonly Tok[], k: number, text: string): boolean {
  const t = toks[k];
  return t !== undefined && t.kind === 'punct' && t.text === text;
}

/**
 * A call of the MongoDB shell API from `toks[k]`: `db.<collection>.<method>(`,
 * `db.getCollection('x').<method>(` or `db.<command>(`.
 */
function shellCall(toks: readonly Tok[], k: number): boolean {
  if (!wordAt(toks, k, 'db') || !punctAt(toks, k + 1, '.')) return false;
  const second = toks[k + 2];
  if (second?.kind !== 'word') return false;
  if (punctAt(toks, k + 3, '(')) return DB_METHODS.has(second.text);
  if (!punctAt(toks, k + 3, '.')) return false;
  const method = toks[k + 4];
  return method?.kind === 'word' && SHELL_METHODS.has(method.text) && punctAt(toks, k + 5, '(');
}

/** Tokens looked at inside a loop's parentheses. */
const MAX_PAREN_TOKENS = 64;

/**
 * Whether the parentheses opened at `toks[k]` hold code (`(true)`, `(d-s<1e4)`, `(let i=0;;)`)
 * rather than words (`(each item)`): closed, not empty, and no two words in a row other than a
 * declaration's.
 */
function codeParens(toks: readonly Tok[], k: number): boolean {
  let depth = 0;
  for (let j = k; j < toks.length && j - k < MAX_PAREN_TOKENS; j++) {
    const t = toks[j]!;
    if (t.text === '(') depth++;
    else if (t.text === ')') {
      depth--;
      if (depth === 0) return j > k + 1;
    } else if (t.kind === 'word' && toks[j - 1]?.kind === 'word') {
      const prev = toks[j - 1]!.text;
      if (prev !== 'var' && prev !== 'let' && prev !== 'const' && prev !== 'new') return false;
    }
  }
  return false;
}

/** What the statement at `toks[k]` is, when it is one only JavaScript writes; null otherwise. */
function statementAt(toks: readonly Tok[], k: number): { what: string; strong: boolean } | null {
  const t = toks[k];
  if (t?.kind !== 'word') return null;
  switch (t.text) {
    case 'var':
    case 'let':
    case 'const': {
      if (toks[k + 1]?.kind !== 'word' || !punctAt(toks, k + 2, '=')) return null;
      // Declared from a call or an object (`new Date()`, `db.x.find()`): code, not algebra.
      const rhs = toks[k + 3];
      const strong =
        wordAt(toks, k + 3, 'new') ||
        punctAt(toks, k + 4, '(') ||
        punctAt(toks, k + 4, '.') ||
        (rhs?.kind === 'punct' && (rhs.text === '{' || rhs.text === '['));
      return { what: `declares the variable "${toks[k + 1]!.text}"`, strong };
    }
    case 'do':
      return punctAt(toks, k + 1, '{') ? { what: 'runs a do…while loop', strong: true } : null;
    case 'while':
    case 'for':
      return punctAt(toks, k + 1, '(') && codeParens(toks, k + 1)
        ? { what: `runs a ${t.text} loop`, strong: true }
        : null;
    case 'sleep':
      return punctAt(toks, k + 1, '(') && toks[k + 2]?.kind === 'num'
        ? { what: 'calls sleep()', strong: true }
        : null;
    case 'return': {
      // `return true` ending the statement, or `return` of a JavaScript comparison (`==`, `!=`):
      // what a `$where` function answers for every document.
      const v = toks[k + 1];
      const constant =
        v !== undefined &&
        (v.kind === 'num' || (v.kind === 'word' && (v.text === 'true' || v.text === 'false')));
      const end = toks[k + 2];
      if (constant && (end === undefined || end.text === ';' || end.text === '}')) {
        return { what: 'returns a constant', strong: true };
      }
      for (let j = k + 1; j < k + 10 && j + 1 < toks.length; j++) {
        const t = toks[j]!;
        // Words in a row are prose (`return it by Friday`), not an expression.
        if (
          t.text === ';' ||
          t.text === '}' ||
          (t.kind === 'word' && toks[j - 1]?.kind === 'word' && j > k + 1)
        )
          break;
        if (
          (t.text === '=' || t.text === '!') &&
          toks[j + 1]!.text === '=' &&
          toks[j + 1]!.start === t.start + 1
        ) {
          return { what: 'returns a comparison', strong: true };
        }
      }
      return null;
    }
    case 'function':
      return punctAt(toks, k + 1, '(') ? { what: 'defines a function', strong: false } : null;
    case 'db':
      return shellCall(toks, k) ? { what: 'calls the MongoDB shell API', strong: true } : null;
    default:
      return null;
  }
}

/**
 * Whether `s[0, end)` can be the literal a value was placed in: nothing, a number, a word, quotes
 * and closing brackets — `1`, `'`, `x"`, `0)`.
 */
function literalPrefix(s: string, end: number): boolean {
  if (end > MAX_PREFIX) return false;
  for (let i = 0; i < end; i++) {
    const c = s.charCodeAt(i);
    const ok =
      c <= 32 ||
      isIdentStart(c) ||
      isDigit(c) ||
      c === 39 ||
      c === 34 ||
      c === 41 ||
      c === 93 ||
      c === 125 ||
      c === 46 ||
      c === 45;
    if (!ok) return false;
  }
  return true;
}

/**
 * Whether `s[0, end)` ends a string or a number: a quote in it, or digits only (`x'`, `"`, `5`,
 * `2)`). Words alone (`use this.props && …`) are prose or code, not a breakout.
 */
function leavesLiteral(s: string, end: number): boolean {
  let digits = 0;
  let other = 0;
  for (let i = 0; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c === 39 || c === 34) return true;
    if (isDigit(c)) digits++;
    else if (c > 32 && c !== 41) other++;
  }
  return end === 0 || (digits > 0 && other === 0);
}

/**
 * `' && this.password.match(/^a/)//`, `1 || this.role == "admin"`: a literal left, then `&&` or
 * `||` and a member of the document `$where` runs on. Where the operator starts, or -1.
 */
function documentCondition(text: string): number {
  let at = text.indexOf('this.');
  while (at !== -1) {
    let k = at - 1;
    while (k >= 0 && text.charCodeAt(k) <= 32) k--;
    const op = text.slice(k - 1, k + 1);
    if ((op === '&&' || op === '||') && isIdentStart(text.charCodeAt(at + 5))) {
      let end = k - 1;
      while (end > 0 && text.charCodeAt(end - 1) <= 32) end--;
      if (literalPrefix(text, end) && leavesLiteral(text, end)) return k - 1;
    }
    at = text.indexOf('this.', at + 5);
  }
  return -1;
}

/** Server-side JavaScript in a value; see the module comment. */
export const serverJsCheck: Detector = {
  name: 'nosql-javascript',
  categories: ['nosqli'],
  inspect(value: InspectedValue): Finding[] {
    const text = value.value;
    // Every signal needs a `;`, the shell's `db.` or a `this.`: most values have none.
    if (
      value.kind === 'json-key' ||
      (text.indexOf(';') === -1 && text.indexOf('db.') === -1 && text.indexOf('this.') === -1)
    ) {
      return [];
    }
    const condition = documentCondition(text);
    if (condition !== -1) {
      return [
        finding(
          value,
          'nosqli',
          0.95,
          'leaves its literal and adds a JavaScript condition on the document (this.…)',
          text.slice(condition, condition + 200),
        ),
      ];
    }
    let lead = 0;
    while (lead < text.length && text.charCodeAt(lead) <= 32) lead++;
    // A whole value that is a shell call (`db.users.drop()`): nothing to break out of.
    if (text.startsWith('db.', lead)) {
      const head = tokenize(text.slice(lead, lead + 200), 0);
      if (shellCall(head, 0)) {
        return [finding(value, 'nosqli', 0.95, 'calls the MongoDB shell API', text.slice(lead))];
      }
    }
    const semi = text.indexOf(';');
    if (semi === -1 || !literalPrefix(text, semi)) return [];
    const toks = tokenize(text, semi);
    let strong = 0;
    let weak = 0;
    let first: { what: string; at: number } | null = null;
    for (let k = 0; k < toks.length; k++) {
      const t = toks[k]!;
      // A statement starts after `;`, `{` or `}` (the loop bodies of a payload).
      if (t.kind !== 'punct' || (t.text !== ';' && t.text !== '{' && t.text !== '}')) continue;
      const s = statementAt(toks, k + 1);
      if (s === null) continue;
      if (s.strong) strong++;
      else weak++;
      first ??= { what: s.what, at: toks[k + 1]!.start };
    }
    if (first === null || (strong === 0 && weak < 2)) return [];
    const confidence = strong > 0 && strong + weak >= 2 ? 0.95 : 0.9;
    return [
      finding(
        value,
        'nosqli',
        confidence,
        `leaves its literal and ${first.what}: server-side JavaScript`,
        text.slice(semi, semi + 200),
      ),
    ];
  },
};
