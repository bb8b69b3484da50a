/**
 * A shell's view of a value: where a new command may start (after `;`, `|`, `||`, `&&`, `&`,
 * a newline, inside `$(…)`, backticks, `<(…)`), and the command word a shell would build
 * there once quotes, backslashes, carets and empty expansions (`$@`, `${x}`) are gone.
 * Everything is a forward scan with bounded look-ahead.
 */

export type StartKind = 'value' | 'separator' | 'substitution' | 'brace';

export interface CommandStart {
  kind: StartKind;
  /** Offset of the separator or substitution (or 0 for the value's start). */
  at: number;
  /** Offset where the command word begins. */
  word: number;
}

/** Longest command word worth normalizing, in characters; longer words are no command names. */
const MAX_WORD = 48;

function isNameChar(c: string | undefined, first: boolean): boolean {
  if (c === undefined) return false;
  const x = c.charCodeAt(0);
  const letter = (x >= 0x41 && x <= 0x5a) || (x >= 0x61 && x <= 0x7a) || x === 0x5f;
  return letter || (!first && x >= 0x30 && x <= 0x39);
}

/** `s.indexOf(c, from)` looking no further than `limit` characters. */
function indexWithin(s: string, c: string, from: number, limit: number): number {
  const end = Math.min(s.length, from + limit);
  for (let i = from; i < end; i++) if (s[i] === c) return i;
  return -1;
}

function isBlank(c: string | undefined): boolean {
  return c === ' ' || c === '\t';
}

/** Characters that end an unquoted word. */
function isMeta(c: string): boolean {
  return isMetaCode(c.charCodeAt(0));
}

/** `isMeta` on a character code: space, tab, newline, return, `; | & < > ( )` and backtick. */
function isMetaCode(x: number): boolean {
  switch (x) {
    case 0x20:
    case 0x09:
    case 0x0a:
    case 0x0d:
    case 0x3b:
    case 0x7c:
    case 0x26:
    case 0x3c:
    case 0x3e:
    case 0x28:
    case 0x29:
    case 0x60:
      return true;
    default:
      return false;
  }
}

/** Characters `readWord` resolves rather than copies: backslash, caret, quotes, `$`. */
function isWordSpecial(x: number, stopAtComma: boolean): boolean {
  return (
    x === 0x5c ||
    x === 0x5e ||
    x === 0x27 ||
    x === 0x22 ||
    x === 0x24 ||
    (stopAtComma && (x === 0x2c || x === 0x7d))
  );
}

/**
 * Skips what a shell skips before a command word: blanks, `${IFS}` and `$IFS$9`, subshell and
 * group openers, `!`. Not `+`: a form's `+` spaces reach detectors already decoded (the form-decoded
 * reading of a value), and a shell reads `;+more+than+that` as one word, no command.
 */
export function skipBlanks(s: string, p: number): number {
  const n = s.length;
  while (p < n) {
    const c = s[p];
    if (isBlank(c) || c === '(' || c === '!') {
      p++;
    } else if (c === '{' && s[p + 1] !== ',' && isBlank(s[p + 1])) {
      p++; // `{ id; }` group
    } else if (c === '$' && s.startsWith('{IFS}', p + 1)) {
      p += 6;
    } else if (c === '$' && s.startsWith('IFS', p + 1)) {
      p += 4;
    } else if (c === '$' && s[p + 1] !== undefined && '@*#0123456789'.includes(s[p + 1]!)) {
      p += 2;
    } else {
      break;
    }
  }
  return p;
}

export interface Word {
  /** The word as the shell would pass it, lower-cased, cut to `MAX_WORD`. */
  text: string;
  end: number;
  /** Whether quotes, escapes or empty expansions were removed to build it. */
  obfuscated: boolean;
}

/**
 * Reads one shell word from `p`, resolving quotes, `\x`, `^x` (cmd's escape), `$@`, `$*`,
 * `$1`…`$9` and `${…}`/`$NAME` (taken as empty; `$IFS` ends the word as the shell's word
 * splitting would).
 */
export function readWord(s: string, p: number, stopAtComma = false): Word {
  const n = s.length;
  // Fast path: a run of plain characters, copied as one slice instead of one at a time.
  let q = p;
  while (q < n) {
    const x = s.charCodeAt(q);
    if (isMetaCode(x) || isWordSpecial(x, stopAtComma)) break;
    q++;
  }
  if (q - p > MAX_WORD) {
    // The character-wise loop would stop one past MAX_WORD and skip to the next metacharacter.
    let end = p + MAX_WORD + 1;
    while (end < n && !isMetaCode(s.charCodeAt(end))) end++;
    return { text: s.slice(p, p + MAX_WORD + 1).toLowerCase(), end, obfuscated: false };
  }
  if (q >= n || isMetaCode(s.charCodeAt(q)) || (stopAtComma && (s[q] === ',' || s[q] === '}'))) {
    return { text: s.slice(p, q).toLowerCase(), end: q, obfuscated: false };
  }
  let text = s.slice(p, q);
  p = q;
  let obfuscated = false;
  while (p < n) {
    const c = s[p]!;
    if (isMeta(c) || (stopAtComma && (c === ',' || c === '}'))) break;
    if (c === '\\') {
      if (p + 1 < n && s[p + 1] !== '\n') text += s[p + 1];
      p += 2;
      obfuscated = true;
    } else if (c === '^' && p + 1 < n) {
      text += s[p + 1];
      p += 2;
      obfuscated = true;
    } else if (c === "'" || c === '"') {
      const close = indexWithin(s, c, p + 1, MAX_WORD * 2);
      if (close < 0) break;
      // Inside double quotes `$@` still expands to nothing.
      let inner = s.slice(p + 1, Math.min(close, p + 1 + MAX_WORD));
      if (c === '"' && inner.includes('$')) inner = inner.replaceAll('$@', '').replaceAll('$*', '');
      text += inner;
      p = close + 1;
      obfuscated = true;
    } else if (c === '$') {
      const d = s[p + 1];
      if (d === '{') {
        if (s.startsWith('{IFS}', p + 1)) break;
        const close = indexWithin(s, '}', p + 2, MAX_WORD);
        if (close < 0) break;
        p = close + 1;
        obfuscated = true;
      } else if (d !== undefined && '@*#0123456789'.includes(d)) {
        p += 2;
        obfuscated = true;
      } else if (isNameChar(d, true)) {
        if (s.startsWith('IFS', p + 1)) break;
        let q = p + 1;
        while (q < n && q - p < MAX_WORD && isNameChar(s[q], false)) q++;
        p = q;
        obfuscated = true;
      } else {
        if (d === '(') break;
        text += c;
        p++;
      }
    } else {
      text += c;
      p++;
    }
    if (text.length > MAX_WORD) {
      while (p < n && !isMeta(s[p]!)) p++;
      break;
    }
  }
  return { text: text.toLowerCase(), end: p, obfuscated };
}

/** Every place in `s` a shell could start a new command, in order. */
export function commandStarts(s: string): CommandStart[] {
  const starts: CommandStart[] = [{ kind: 'value', at: 0, word: skipBlanks(s, 0) }];
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const code = s.charCodeAt(i);
    // Only ; & | ( { ` and line breaks start anything: skip the rest without building strings.
    if (
      code !== 0x3b &&
      code !== 0x26 &&
      code !== 0x7c &&
      code !== 0x28 &&
      code !== 0x7b &&
      code !== 0x60 &&
      code !== 0x0a &&
      code !== 0x0d
    ) {
      continue;
    }
    const c = s[i];
    if (c === ';' || c === '\n' || c === '\r') {
      starts.push({ kind: 'separator', at: i, word: skipBlanks(s, i + 1) });
    } else if (c === '|' || c === '&') {
      const double = s[i + 1] === c;
      // `2>&1`, `&>` and `|&` are redirections of a command already running, not new ones.
      if (c === '&' && (s[i - 1] === '>' || s[i + 1] === '>')) continue;
      starts.push({ kind: 'separator', at: i, word: skipBlanks(s, i + (double ? 2 : 1)) });
      if (double) i++;
    } else if (c === '`') {
      starts.push({ kind: 'substitution', at: i, word: skipBlanks(s, i + 1) });
    } else if (c === '(' && i > 0 && (s[i - 1] === '$' || s[i - 1] === '<' || s[i - 1] === '>')) {
      if (s[i + 1] === '(') continue; // `$((1+2))` is arithmetic
      starts.push({ kind: 'substitution', at: i - 1, word: skipBlanks(s, i + 1) });
    } else if (c === '{' && s[i - 1] !== '$') {
      // `{cat,/etc/passwd}`: brace expansion makes the first item the command.
      const comma = indexWithin(s, ',', i + 1, MAX_WORD);
      if (comma > i + 1 && comma - i <= MAX_WORD)
        starts.push({ kind: 'brace', at: i, word: i + 1 });
    }
    if (starts.length > 256) break;
  }
  return starts;
}
