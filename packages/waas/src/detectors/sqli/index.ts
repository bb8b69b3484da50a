import type { Detector, Finding, InspectedValue, Paranoia } from '../../types.js';
import { judge, type QuoteContext, type Verdict } from './grammar.js';
import {
  DANGEROUS_NAMES,
  DANGEROUS_VARIABLE_PREFIX,
  KEYWORDS,
  STATEMENTS,
  TIME_FUNCTIONS,
} from './keywords.js';
import { tokenize, type Token } from './tokenizer.js';

/** Bytes of a long value that are tokenized from its start: payloads sit at one end or the other. */
const HEAD_CHARS = 8 * 1024;
/** …and from its end (padding before a payload is a known way around inspection limits). */
const TAIL_CHARS = 1024;
/** A finding's evidence is cut to this many characters (see `Finding.evidence`). */
const EVIDENCE_CHARS = 200;

/** Lowest confidence reported at each paranoia level. */
const MIN_CONFIDENCE: Record<Paranoia, number> = { 1: 0.85, 2: 0.6, 3: 0.4, 4: 0.25 };

/** Words that can start SQL in a value with no punctuation at all (`1 or 1`, `1 order by 2`). */
const BARE_WORDS = new Set([
  'and',
  'or',
  'xor',
  'union',
  'select',
  'order',
  'group',
  'having',
  'limit',
  'procedure',
  'into',
  'waitfor',
  'exec',
  'execute',
  'drop',
  'delete',
  'insert',
  'update',
  'declare',
  'shutdown',
  'create',
  'alter',
  'truncate',
  'replace',
  'set',
]);

/** Characters that give SQL its structure: quotes, operators, comments, parentheses, `;`, `@`. */
function isSqlPunctuation(c: number): boolean {
  switch (c) {
    case 39: // '
    case 34: // "
    case 96: // `
    case 59: // ;
    case 40: // (
    case 41: // )
    case 61: // =
    case 60: // <
    case 62: // >
    case 124: // |
    case 38: // &
    case 35: // #
    case 45: // -
    case 47: // /
    case 42: // *
    case 64: // @
    case 33: // !
    case 126: // ~
    case 94: // ^
    case 37: // %
    case 43: // +
      return true;
    default:
      return false;
  }
}

/** Cheap first look: punctuation SQL needs, or one of the few words that can do without it. */
function mayBeSql(s: string): boolean {
  let wordStart = -1;
  for (let i = 0; i <= s.length; i++) {
    const c = i < s.length ? s.charCodeAt(i) : 32;
    if (isSqlPunctuation(c)) return true;
    const letter = (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95;
    if (letter) {
      if (wordStart < 0) wordStart = i;
    } else if (wordStart >= 0) {
      const len = i - wordStart;
      if (len >= 2 && len <= 9 && BARE_WORDS.has(s.slice(wordStart, i).toLowerCase())) return true;
      wordStart = -1;
    }
  }
  return false;
}

/** The longest keyword or catalogue name: longer runs of letters are neither. */
const MAX_WORD = Math.max(
  ...[...KEYWORDS, ...DANGEROUS_NAMES, ...TIME_FUNCTIONS, ...STATEMENTS].map((w) => w.length),
);

/** Whether `s[from, to)` (letters and `_`) is a keyword or a catalogue name, case-insensitively. */
function isSqlWord(s: string, from: number, to: number): boolean {
  if (to - from > MAX_WORD) return false;
  const word = s.slice(from, to).toUpperCase();
  return (
    KEYWORDS.has(word) ||
    DANGEROUS_NAMES.has(word) ||
    TIME_FUNCTIONS.has(word) ||
    STATEMENTS.has(word)
  );
}

/**
 * Cheap look, before tokenizing, at whether the value can signal in the bare context at all. The
 * grammar reports nothing there unless the tokens hold a keyword, a time-delay or catalogue name
 * (called or not), a statement word (a `;` stacks nothing without one), a `@@` variable, `)`, a comment (`#`, `--`, `/*`), `&&`, `||` or `\N`
 * (see `bareTokensMaySignal`). Keywords and those names are letters and `_` only, so each is a
 * whole run of letters here, or (glued to a number: `1union`, `0x1union`) the end of a run that
 * follows a digit. Anything in strings is looked at too: this can only say yes more often.
 */
function bareMaySignal(s: string): boolean {
  let run = -1;
  for (let i = 0; i <= s.length; i++) {
    const c = i < s.length ? s.charCodeAt(i) : 32;
    if ((c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95) {
      if (run < 0) run = i;
      continue;
    }
    if (run >= 0) {
      if (run > 0 && s.charCodeAt(run - 1) >= 48 && s.charCodeAt(run - 1) <= 57) {
        for (let k = run; k < i; k++) if (isSqlWord(s, k, i)) return true;
      } else if (i - run >= 2 && isSqlWord(s, run, i)) return true;
      run = -1;
    }
    switch (c) {
      case 41: // )
      case 35: // #
      case 92: // \
        return true;
      case 64: // @@
      case 45: // --
      case 38: // &&
      case 124: // ||
        if (s.charCodeAt(i + 1) === c) return true;
        break;
      case 47: // /*
        if (s.charCodeAt(i + 1) === 42) return true;
        break;
      default:
    }
  }
  return false;
}

/**
 * Whether the grammar can report anything on these bare-context tokens: every signal it gives
 * there needs a keyword (statements, AND/OR, clauses, CASE, SELECT…), a time-delay or catalogue
 * name (a call or not), a statement word (stacked after `;`, `exec(`), a `@@` variable, `)`
 * (closed parentheses), `&&`/`||` or a comment: other calls, names, variables and a `;` only
 * count with one of these.
 */
function bareTokensMaySignal(tokens: readonly Token[]): boolean {
  for (const t of tokens) {
    switch (t.type) {
      case 'kw':
      case 'cmt':
      case ')':
        return true;
      case 'op':
        if (t.text === '&&' || t.text === '||') return true;
        break;
      case 'id':
        if (DANGEROUS_NAMES.has(t.text)) return true;
        break;
      case 'fn':
        if (TIME_FUNCTIONS.has(t.text) || DANGEROUS_NAMES.has(t.text) || STATEMENTS.has(t.text)) {
          return true;
        }
        break;
      case 'var':
        if (t.text.startsWith(DANGEROUS_VARIABLE_PREFIX)) return true;
        break;
      default:
    }
  }
  return false;
}

/**
 * Whether a value placed after a quote (`src` starts with it) can leave the string and signal:
 * the grammar needs the first string closed and then `)`, `,`, `;`, an operator or a keyword
 * (anything else stops it before any signal), or nothing but a comment. Looks at two tokens.
 */
function quotedMaySignal(src: string, backslashEscapes: boolean): boolean {
  const head = tokenize(src, { backslashEscapes, maxTokens: 2 });
  const first = head[0];
  if (!first || first.type !== 'str' || !first.closed) return false;
  const next = head[1];
  if (!next) return false;
  switch (next.type) {
    case 'cmt':
    case ')':
    case ',':
    case ';':
    case 'op':
    case 'kw':
      return true;
    default:
      return false;
  }
}

const QUOTES: readonly QuoteContext[] = [39, 34];

/** The strongest verdict over the contexts a value can be placed in, with its offset in `text`. */
function judgeText(text: string): Verdict | null {
  let best: Verdict | null = null;
  if (bareMaySignal(text)) {
    const tokens = tokenize(text, { backslashEscapes: true });
    if (bareTokensMaySignal(tokens)) best = judge(tokens, 0);
  }
  const backslash = text.includes('\\');
  for (const context of QUOTES) {
    // A value with no such quote stays inside the query's string.
    if (!text.includes(context === 39 ? "'" : '"')) continue;
    const src = (context === 39 ? "'" : '"') + text;
    for (let mode = 0; mode < (backslash ? 2 : 1); mode++) {
      const backslashEscapes = mode === 0;
      if (!quotedMaySignal(src, backslashEscapes)) continue;
      const v = judge(tokenize(src, { backslashEscapes }), context);
      if (v && (!best || v.confidence > best.confidence)) {
        best = { ...v, start: Math.max(0, v.start - 1) };
      }
    }
  }
  return best;
}

/**
 * Judges a raw string: the strongest verdict over all injection contexts, on the first 8 KiB and
 * the last 1 KiB of long values. Exported for tests and benchmarks; never throws.
 */
export function analyzeSql(value: string): (Verdict & { evidence: string }) | null {
  if (!mayBeSql(value)) return null;
  const parts: [number, string][] =
    value.length <= HEAD_CHARS + TAIL_CHARS
      ? [[0, value]]
      : [
          [0, value.slice(0, HEAD_CHARS)],
          [value.length - TAIL_CHARS, value.slice(value.length - TAIL_CHARS)],
        ];
  let best: (Verdict & { evidence: string }) | null = null;
  for (const [offset, text] of parts) {
    let v: Verdict | null;
    try {
      v = judgeText(text);
    } catch {
      // The tokenizer and grammar do not throw by design; a bug must not stop the inspection.
      v = null;
    }
    if (v && (!best || v.confidence > best.confidence)) {
      best = {
        ...v,
        evidence: text.slice(v.start, v.start + EVIDENCE_CHARS),
        start: v.start + offset,
      };
    }
  }
  if (best && best.confidence >= 0.3 && best.confidence < 0.9 && value.includes('/*!')) {
    // MySQL runs `/*! … */` as code: no one writes it in a value but to hide SQL from filters.
    best = { ...best, confidence: 0.9, reason: `${best.reason}, hidden in /*! */ comments` };
  }
  return best;
}

/**
 * SQL injection: tokenizes each value as SQL after an opening `'`, after an opening `"` and
 * bare, and reports it when it leaves that literal and goes on as SQL that changes the query
 * (a condition, a UNION SELECT, a stacked statement, a time delay…). Never throws.
 */
export const sqliDetector: Detector = {
  name: 'sqli',
  categories: ['sqli'],
  inspect(value: InspectedValue, paranoia: Paranoia): Finding[] {
    const verdict = analyzeSql(value.value);
    if (!verdict || verdict.confidence < MIN_CONFIDENCE[paranoia]) return [];
    return [
      {
        category: 'sqli',
        location: value.location,
        evidence: verdict.evidence,
        confidence: Math.round(verdict.confidence * 100) / 100,
        reason: verdict.reason,
      },
    ];
  },
};
