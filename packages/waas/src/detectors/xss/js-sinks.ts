/**
 * A scan of JavaScript-looking text for what an injected script does: calls of the functions
 * that run or show code (`alert(1)`, ``alert`1` ``, `(alert)(1)`, `alert?.(1)`,
 * `confirm.call(null,1)`), reads of `document.cookie`, `String.fromCharCode(…)` and
 * `constructor.constructor(…)` chains. One pass over identifiers; no regular expressions.
 */

/** Functions whose call is the point of an injected script. */
const SINKS = new Set([
  'alert',
  'prompt',
  'confirm',
  'eval',
  'settimeout',
  'setinterval',
  'execscript',
  'function',
  'fromcharcode',
  'atob',
  'importscripts',
  'setimmediate',
  'msSetImmediate'.toLowerCase(),
  'write',
  'writeln',
  'constructor',
]);

/** Sinks too common as English words to count without something else that is plainly code. */
const WORDY = new Set(['function', 'write', 'writeln', 'constructor', 'atob']);

export interface JsHit {
  index: number;
  length: number;
  /** 'call' for a sink called without a space before its arguments, 'loose' otherwise. */
  strength: 'call' | 'loose';
  what: string;
}

function isIdentStart(c: number): boolean {
  return (
    (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f || c === 0x24 || c > 0x7f
  );
}

function isIdentPart(c: number): boolean {
  return isIdentStart(c) || (c >= 0x30 && c <= 0x39);
}

/** Whether the text after `(` at `p` starts like a JavaScript argument rather than prose. */
function argumentLooksLikeCode(s: string, p: number): boolean {
  if (p >= s.length) return true;
  const c = s.charCodeAt(p);
  // digit, quote, backtick, regex, array, object, unary, closing paren, `this`-free literals
  if ((c >= 0x30 && c <= 0x39) || ')\'"`/[{-!+~.'.includes(s[p]!)) return true;
  if (!isIdentStart(c)) return false;
  let q = p;
  while (q < s.length && isIdentPart(s.charCodeAt(q))) q++;
  if (q >= s.length) return true;
  return '.()[],;`?'.includes(s[q]!);
}

/**
 * Whether the text at `i`, right after an identifier, could make it a hit below: `?.`, `)(`,
 * `.`, `[` (a `document` member), a backtick, `(` or `=` directly, or after blanks.
 */
function mayBeUsed(s: string, i: number): boolean {
  let c = s.charCodeAt(i);
  if (c !== 0x20 && c !== 0x09 && c !== 0x0a) {
    return (
      c === 0x3f || c === 0x29 || c === 0x2e || c === 0x5b || c === 0x60 || c === 0x28 || c === 0x3d
    );
  }
  const n = s.length;
  while (i < n && (c === 0x20 || c === 0x09 || c === 0x0a)) c = s.charCodeAt(++i);
  return c === 0x28 || c === 0x60 || c === 0x3d;
}

/** Finds the first sink use in `s`, or undefined. */
export function findJsSink(s: string): JsHit | undefined {
  const n = s.length;
  let i = 0;
  let loose: JsHit | undefined;
  while (i < n) {
    const c = s.charCodeAt(i);
    if (!isIdentStart(c)) {
      i++;
      continue;
    }
    const start = i;
    while (i < n && isIdentPart(s.charCodeAt(i))) i++;
    // `1alert(1)` is no identifier after a number, just a syntax error.
    const afterDigit =
      start > 0 && s.charCodeAt(start - 1) >= 0x30 && s.charCodeAt(start - 1) <= 0x39;
    // Sink names are 4 to 13 characters long; skip the lower-casing for other words.
    if (i - start > 13 || i - start < 4 || afterDigit) continue;
    // And only what the word is followed by below makes a hit: skip words in prose cheaply.
    if (!mayBeUsed(s, i)) continue;
    const word = s.slice(start, i).toLowerCase();
    if (word === 'document') {
      const hit = documentProperty(s, i);
      if (hit) return { index: start, length: i - start + hit, strength: 'call', what: 'document' };
      continue;
    }
    if (!SINKS.has(word)) continue;
    const precededByDot = start > 0 && s[start - 1] === '.';
    if (WORDY.has(word) && !precededByDot && word !== 'function') continue;
    let p = i;
    let strength: 'call' | 'loose' = 'call';
    let applied = false;
    // `alert?.(1)`, `(alert)(1)`, `alert.call(…)`, `alert.apply(…)`, `alert.bind(…)()`
    if (s.startsWith('?.', p)) p += 2;
    else if (s[p] === ')' && s[p + 1] === '(') p += 1;
    else if (s.startsWith('.call(', p) || s.startsWith('.bind(', p)) {
      p += 5;
      applied = true;
    } else if (s.startsWith('.apply(', p)) {
      p += 6;
      applied = true;
    } else {
      while (p < n && (s[p] === ' ' || s[p] === '\t' || s[p] === '\n')) p++;
      if (p > i) strength = 'loose';
    }
    const opener = s[p];
    if (opener === '`') {
      const hit: JsHit = { index: start, length: p - start + 1, strength, what: word };
      if (strength === 'call') return hit;
      loose ??= hit;
    } else if (opener === '(' && (applied || argumentLooksLikeCode(s, p + 1))) {
      // `Function` alone is a word; `Function('…')` with a string or `Function(…)()` is code.
      if (word === 'function' && !precededByDot && !'\'"`'.includes(s[p + 1] ?? '')) continue;
      const hit: JsHit = { index: start, length: p - start + 1, strength, what: word };
      if (strength === 'call') return hit;
      loose ??= hit;
    } else if (opener === '=' && s[p + 1] !== '=' && precededByDot) {
      // `window.onerror=eval` style assignments of a sink.
      loose ??= { index: start, length: p - start + 1, strength: 'loose', what: word };
    }
  }
  return loose;
}

/** Length of a dangerous `document` member access at `p` (after `document`), or 0. */
function documentProperty(s: string, p: number): number {
  let q = p;
  if (s[q] === '.') q++;
  else if (s[q] === '[' && (s[q + 1] === '"' || s[q + 1] === "'" || s[q + 1] === '`')) q += 2;
  else return 0;
  const start = q;
  while (q < s.length && isIdentPart(s.charCodeAt(q))) q++;
  const member = s.slice(start, q).toLowerCase();
  if (member === 'cookie' || member === 'domain' || member === 'location') return q - p;
  if ((member === 'write' || member === 'writeln') && s[q] === '(') return q - p + 1;
  return 0;
}
