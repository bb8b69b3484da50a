import type { Detector, Finding, InspectedValue, Paranoia } from '../../types.js';
import { judge, type QuoteContext, type Verdict } from './grammar.js';
import { tokenize } from './tokenizer.js';

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

const CONTEXTS: readonly QuoteContext[] = [0, 39, 34];

/** The strongest verdict over the contexts a value can be placed in, with its offset in `text`. */
function judgeText(text: string): Verdict | null {
  let best: Verdict | null = null;
  const backslash = text.includes('\\');
  for (const context of CONTEXTS) {
    if (context !== 0 && !text.includes(String.fromCharCode(context))) continue;
    const prefix = context === 0 ? '' : String.fromCharCode(context);
    const modes = backslash && context !== 0 ? [true, false] : [true];
    for (const backslashEscapes of modes) {
      const v = judge(tokenize(prefix + text, { backslashEscapes }), context);
      if (v && (!best || v.confidence > best.confidence)) {
        best = { ...v, start: Math.max(0, v.start - prefix.length) };
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
