/**
 * Decoding of request values as the application behind the WAF would end up reading them: URL
 * (also double and triple), `+` as space in query strings and forms, HTML entities, `\uXXXX` and
 * `\xXX` escapes, overlong UTF-8, NUL bytes. Every function is a single left-to-right scan
 * (linear in its input) and never throws, whatever the input.
 */

/**
 * URL-decoding rounds at most: double encoding (`%2527`) is common in attacks, triple is rare,
 * and a bound keeps the work linear.
 */
const MAX_URL_DECODE_ROUNDS = 3;

/** The value of a hex digit's character code, -1 when it is not one. */
export function hexValue(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  if (code >= 65 && code <= 70) return code - 55;
  if (code >= 97 && code <= 102) return code - 87;
  return -1;
}

/**
 * Bytes as UTF-8, leniently: an overlong form (`C0 AE`, `E0 80 AE`) decodes to the character it
 * spells — IIS and old Java did, and `%c0%ae%c0%ae/` is a classic traversal — and a byte that
 * starts or continues nothing becomes U+FFFD.
 */
export function decodeUtf8Lenient(bytes: ArrayLike<number>, start = 0, end = bytes.length): string {
  let out = '';
  let i = start;
  while (i < end) {
    const b = bytes[i]!;
    if (b < 0x80) {
      out += String.fromCharCode(b);
      i++;
      continue;
    }
    let need = 0;
    let cp = 0;
    if (b >= 0xc0 && b < 0xe0) {
      need = 1;
      cp = b & 0x1f;
    } else if (b >= 0xe0 && b < 0xf0) {
      need = 2;
      cp = b & 0x0f;
    } else if (b >= 0xf0 && b < 0xf8) {
      need = 3;
      cp = b & 0x07;
    } else {
      out += '\ufffd';
      i++;
      continue;
    }
    let j = 1;
    for (; j <= need && i + j < end; j++) {
      const c = bytes[i + j]!;
      if ((c & 0xc0) !== 0x80) break;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (j <= need) {
      out += '\ufffd';
      i++;
      continue;
    }
    i += need + 1;
    if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) out += '\ufffd';
    else out += String.fromCodePoint(cp);
  }
  return out;
}

/**
 * One round of percent-decoding: `%XX` sequences become bytes, read as (lenient) UTF-8 together
 * with the characters around them; `%uXXXX` (IIS) becomes its character; a `%` that starts
 * nothing stays. With `plusAsSpace`, `+` becomes a space (query strings and forms).
 */
function urlDecodeOnce(input: string, plusAsSpace = false): string {
  if (input.indexOf('%') === -1 && (!plusAsSpace || input.indexOf('+') === -1)) return input;
  let out = '';
  const bytes: number[] = [];
  const flush = (): void => {
    if (bytes.length > 0) {
      out += decodeUtf8Lenient(bytes);
      bytes.length = 0;
    }
  };
  const n = input.length;
  let i = 0;
  while (i < n) {
    const c = input.charCodeAt(i);
    if (c === 37 /* % */) {
      if (i + 2 < n) {
        const h = hexValue(input.charCodeAt(i + 1));
        const l = hexValue(input.charCodeAt(i + 2));
        if (h >= 0 && l >= 0) {
          bytes.push(h * 16 + l);
          i += 3;
          continue;
        }
      }
      const u = input.charCodeAt(i + 1);
      if ((u === 117 || u === 85) /* u U */ && i + 5 < n) {
        const a = hexValue(input.charCodeAt(i + 2));
        const b = hexValue(input.charCodeAt(i + 3));
        const d = hexValue(input.charCodeAt(i + 4));
        const e = hexValue(input.charCodeAt(i + 5));
        if (a >= 0 && b >= 0 && d >= 0 && e >= 0) {
          flush();
          out += String.fromCharCode((a << 12) | (b << 8) | (d << 4) | e);
          i += 6;
          continue;
        }
      }
    }
    flush();
    out += plusAsSpace && c === 43 /* + */ ? ' ' : input[i];
    i++;
  }
  flush();
  return out;
}

/** Whether `input` holds a percent escape (`%XX` or `%uXXXX`) that decodes. */
function hasEscape(input: string): boolean {
  let at = input.indexOf('%');
  while (at !== -1) {
    if (hexValue(input.charCodeAt(at + 1)) >= 0 && hexValue(input.charCodeAt(at + 2)) >= 0) {
      return true;
    }
    if ((input.charCodeAt(at + 1) | 0x20) === 117 && hexValue(input.charCodeAt(at + 2)) >= 0) {
      return true;
    }
    at = input.indexOf('%', at + 1);
  }
  return false;
}

/**
 * URL-decodes while the value changes, up to {@link MAX_URL_DECODE_ROUNDS} rounds. With
 * `plusAsSpace` `+` is a space in the first round; with `'always'` in every round (a form
 * encoder's output, encoded again: its `+` became `%2B` on the way).
 */
export function urlDecode(input: string, plusAsSpace: boolean | 'always' = false): string {
  let value = urlDecodeOnce(input, plusAsSpace !== false);
  for (let round = 1; round < MAX_URL_DECODE_ROUNDS; round++) {
    if (value.indexOf('%') === -1) break;
    // `+` is a space only in the first round: a later `+` came from `%2B`, a literal plus. A
    // form decoder's later round (`'always'`) reads `+` as a space only where it decodes
    // escapes: `%1+0` is no layer of encoding, and its `+` came from a `%2B`.
    const next = urlDecodeOnce(value, plusAsSpace === 'always' && hasEscape(value));
    if (next === value) break;
    value = next;
  }
  return value;
}

/**
 * The named entities decoded: the ones attacks use to hide syntax (brackets, quotes,
 * separators) and the common ones of text. Not HTML's full list of 2,231: the rest are letters
 * and symbols that change no parser's view of a value.
 */
export const NAMED_ENTITIES: Readonly<Record<string, string>> = {
  lt: '<',
  gt: '>',
  amp: '&',
  quot: '"',
  apos: "'",
  nbsp: '\u00a0',
  tab: '\t',
  newline: '\n',
  colon: ':',
  semi: ';',
  comma: ',',
  period: '.',
  sol: '/',
  bsol: '\\',
  lpar: '(',
  rpar: ')',
  lsqb: '[',
  rsqb: ']',
  lbrack: '[',
  rbrack: ']',
  lcub: '{',
  rcub: '}',
  lbrace: '{',
  rbrace: '}',
  excl: '!',
  quest: '?',
  num: '#',
  dollar: '$',
  percnt: '%',
  ast: '*',
  plus: '+',
  equals: '=',
  grave: '`',
  vert: '|',
  verbar: '|',
  hyphen: '-',
  dash: '-',
  lowbar: '_',
  commat: '@',
  hat: '^',
  tilde: '~',
};

/** Longest named entity above, in characters: bounds the look-ahead. */
const MAX_ENTITY_NAME = 8;
/** Digits read of a numeric reference after its leading zeros (U+10FFFF is 7 decimal digits). */
const MAX_ENTITY_DIGITS = 8;

/**
 * HTML character references: the named subset above, decimal `&#60;` and hex `&#x3c;`, with or
 * without the closing `;` and with any number of leading zeros, as browsers read them.
 */
export function decodeHtmlEntities(input: string): string {
  if (input.indexOf('&') === -1) return input;
  let out = '';
  const n = input.length;
  let i = 0;
  while (i < n) {
    const c = input.charCodeAt(i);
    if (c !== 38 /* & */) {
      out += input[i];
      i++;
      continue;
    }
    let j = i + 1;
    if (input.charCodeAt(j) === 35 /* # */) {
      j++;
      const hex = input.charCodeAt(j) === 120 || input.charCodeAt(j) === 88; /* x X */
      if (hex) j++;
      while (input.charCodeAt(j) === 48 /* 0 */) j++;
      const digitsStart = j;
      let cp = 0;
      while (j < n && j - digitsStart < MAX_ENTITY_DIGITS) {
        const d = hex
          ? hexValue(input.charCodeAt(j))
          : input.charCodeAt(j) >= 48 && input.charCodeAt(j) <= 57
            ? input.charCodeAt(j) - 48
            : -1;
        if (d < 0) break;
        cp = cp * (hex ? 16 : 10) + d;
        j++;
      }
      const hadDigits = j > digitsStart || input.charCodeAt(j - 1) === 48;
      if (hadDigits && j > i + 2 + (hex ? 1 : 0)) {
        if (input.charCodeAt(j) === 59 /* ; */) j++;
        out += cp > 0x10ffff || cp === 0 ? '\ufffd' : String.fromCodePoint(cp);
        i = j;
        continue;
      }
    } else {
      while (j < n && j - i <= MAX_ENTITY_NAME) {
        const k = input.charCodeAt(j);
        if (!((k >= 97 && k <= 122) || (k >= 65 && k <= 90))) break;
        j++;
      }
      const name = input.slice(i + 1, j).toLowerCase();
      const ch = name.length > 0 ? NAMED_ENTITIES[name] : undefined;
      if (ch !== undefined) {
        if (input.charCodeAt(j) === 59) j++;
        out += ch;
        i = j;
        continue;
      }
    }
    out += '&';
    i++;
  }
  return out;
}

/**
 * JavaScript, JSON and C escapes: `\uXXXX`, `\u{X…}`, `\xXX`. Other backslashes stay, so that
 * the shell's and SQL's own escapes reach their detectors as they were.
 */
export function decodeEscapes(input: string): string {
  if (input.indexOf('\\') === -1) return input;
  let out = '';
  const n = input.length;
  let i = 0;
  while (i < n) {
    const c = input.charCodeAt(i);
    if (c === 92 /* \ */ && i + 1 < n) {
      const k = input.charCodeAt(i + 1);
      if (k === 117 /* u */) {
        if (input.charCodeAt(i + 2) === 123 /* { */) {
          let j = i + 3;
          let cp = 0;
          while (j < n && j < i + 11 && hexValue(input.charCodeAt(j)) >= 0) {
            cp = cp * 16 + hexValue(input.charCodeAt(j));
            j++;
          }
          if (j > i + 3 && input.charCodeAt(j) === 125 /* } */ && cp <= 0x10ffff) {
            out += String.fromCodePoint(cp);
            i = j + 1;
            continue;
          }
        } else if (i + 5 < n) {
          const a = hexValue(input.charCodeAt(i + 2));
          const b = hexValue(input.charCodeAt(i + 3));
          const d = hexValue(input.charCodeAt(i + 4));
          const e = hexValue(input.charCodeAt(i + 5));
          if (a >= 0 && b >= 0 && d >= 0 && e >= 0) {
            out += String.fromCharCode((a << 12) | (b << 8) | (d << 4) | e);
            i += 6;
            continue;
          }
        }
      } else if (k === 120 /* x */ && i + 3 < n) {
        const h = hexValue(input.charCodeAt(i + 2));
        const l = hexValue(input.charCodeAt(i + 3));
        if (h >= 0 && l >= 0) {
          out += String.fromCharCode(h * 16 + l);
          i += 4;
          continue;
        }
      }
    }
    out += input[i];
    i++;
  }
  return out;
}

/** Removes NUL characters: C-based parsers stop at them, which attacks use to cut checks short. */
function removeNul(input: string): string {
  return input.indexOf('\0') === -1 ? input : input.split('\0').join('');
}

/** Whether a value needs any decoding at all: the fast path of typical clean traffic. */
function needsDecoding(input: string, plusAsSpace: boolean): boolean {
  for (let i = 0; i < input.length; i++) {
    const c = input.charCodeAt(i);
    if (c === 37 || c === 38 || c === 92 || c === 0 || (plusAsSpace && c === 43)) return true;
  }
  return false;
}

/** Options of {@link decodeValue}. */
export interface DecodeOptions {
  /**
   * Whether `+` means a space: in the first URL round (query strings and URL-encoded forms), or
   * `'always'`, in every round (see {@link decodeFormVariant}). @default false
   */
  plusAsSpace?: boolean | 'always';
  /** Whether to URL-decode (a JSON string or an XML text is not URL-encoded by its syntax, but attacks still do). @default true */
  url?: boolean;
}

/**
 * A raw value as detectors see it: URL-decoded (repeatedly), then HTML entities, then
 * JavaScript escapes, then — because an escape can produce a new `%` — one more URL round,
 * and NULs removed. Never throws.
 */
export function decodeValue(raw: string, options: DecodeOptions = {}): string {
  const plusAsSpace = options.plusAsSpace ?? false;
  if (!needsDecoding(raw, plusAsSpace !== false)) return raw;
  let value = options.url === false ? raw : urlDecode(raw, plusAsSpace);
  value = decodeEscapes(decodeHtmlEntities(value));
  if (value.indexOf('%') !== -1) {
    value = urlDecodeOnce(value, plusAsSpace === 'always' && hasEscape(value));
  }
  return removeNul(value);
}

/**
 * The value as an application's form decoder would read it (PHP's `urldecode`, Java's
 * `URLDecoder`: `+` is a space in every round), when that differs from `decoded` (what
 * {@link decodeValue} made of `raw`); undefined otherwise. A `+` left next to percent escapes is
 * ambiguous: a path, header, JSON string or multipart field holding a form-encoded value, or a
 * value encoded twice over a form encoding (`%2B` for its spaces), reads as spaces to an
 * application that decodes it, as a literal plus to one that does not. Both readings are
 * inspected.
 */
export function decodeFormVariant(raw: string, decoded: string): string | undefined {
  if (decoded.indexOf('+') === -1) return undefined;
  if (raw.indexOf('%') === -1 && !plusJoinsWords(raw)) return undefined;
  const form = decodeValue(raw, { plusAsSpace: 'always' });
  return form === decoded ? undefined : form;
}

function isAlnum(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c > 127;
}

/**
 * Whether every `+` of a value without blanks joins two letters or digits, at least one of them
 * two words (`the+select+was+a+great+union`): a form encoder's spaces in text that needed no
 * escape. `c++`, `1+1`, `'+sleep(1)+'` and `application/xhtml+xml` keep their pluses.
 */
export function plusJoinsWords(raw: string): boolean {
  let words = 0;
  let plus = raw.indexOf('+');
  if (plus === -1) return false;
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    // Blanks, and the delimiters of URLs, MIME types, header parameters and base64
    // (`application/xhtml+xml`, `q=0.9`, `ab+c/d==`): such values are no form-encoded text.
    if (c <= 32 || c === 47 || c === 58 || c === 59 || c === 61 || c === 38 || c === 63) {
      return false;
    }
  }
  while (plus !== -1) {
    const before = raw.charCodeAt(plus - 1);
    const after = raw.charCodeAt(plus + 1);
    if (!isAlnum(before) || !isAlnum(after)) return false;
    if (!(before >= 48 && before <= 57) && !(after >= 48 && after <= 57)) words++;
    plus = raw.indexOf('+', plus + 1);
  }
  return words > 0;
}

/**
 * Whether a raw value is plainly a form encoder's output: percent escapes, no raw blank or
 * control character, and no `%20` (a form encoder writes a space as `+`; encoders that leave
 * `+` alone write it `%20`) — or, without escapes, pluses that only join words
 * ({@link plusJoinsWords}). Its `+` are then spaces, and the reading with literal pluses
 * (`the+select+was+a+great+union` as SQL arithmetic) is not one an application makes.
 */
export function looksFormEncoded(raw: string): boolean {
  if (raw.indexOf('%') === -1) return plusJoinsWords(raw);
  // Every layer of encoding is looked at: `%2520` is a `%20` one layer down.
  let layer = raw;
  let escapes = 0;
  for (let round = 0; round < MAX_URL_DECODE_ROUNDS; round++) {
    let found = 0;
    for (let i = 0; i < layer.length; i++) {
      const c = layer.charCodeAt(i);
      if (c <= 32 || c === 127) return false;
      if (c === 37 /* % */) {
        const h = hexValue(layer.charCodeAt(i + 1));
        const l = hexValue(layer.charCodeAt(i + 2));
        if (h === 2 && l === 0) return false;
        if (h >= 0 && l >= 0) found++;
      }
    }
    if (found === 0) break;
    escapes += found;
    layer = urlDecodeOnce(layer, false);
  }
  return escapes > 0;
}

/**
 * Smallest length of a value worth trying as base64: 11 characters are 8 bytes, the shortest
 * payloads (`\r\nQUIT\r\n`, `'||1#--`); shorter values are words and ids.
 */
export const MIN_BASE64_LENGTH = 11;

/**
 * The text a base64 (or base64url, with or without padding) value spells, when it is entirely
 * base64 and decodes to printable UTF-8 text with some punctuation; undefined otherwise. Tokens,
 * hashes and ids decode to binary noise and are left alone.
 */
export function decodeBase64Text(value: string): string | undefined {
  const n = value.length;
  if (n < MIN_BASE64_LENGTH) return undefined;
  let end = n;
  while (end > 0 && value.charCodeAt(end - 1) === 61 /* = */) end--;
  if (n - end > 2) return undefined;
  let hasNonAlnum = false;
  for (let i = 0; i < end; i++) {
    const c = value.charCodeAt(i);
    const alnum = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
    if (!alnum) {
      if (c === 43 || c === 47 || c === 45 || c === 95) hasNonAlnum = true;
      else return undefined;
    }
  }
  if (end % 4 === 1) return undefined;
  const bytes = Buffer.from(value.slice(0, end), hasNonAlnum ? 'base64url' : 'base64');
  if (bytes.length === 0) return undefined;
  let printable = 0;
  let punctuation = 0;
  for (const b of bytes) {
    if ((b >= 32 && b < 127) || b === 9 || b === 10 || b === 13 || b >= 0x80) printable++;
    if ((b >= 33 && b <= 47) || (b >= 58 && b <= 64) || (b >= 91 && b <= 96) || b >= 123) {
      if (b < 127) punctuation++;
    }
    // A line break is syntax too, for header and mail protocol injection.
    if (b === 10 || b === 13) punctuation++;
  }
  // Real text is almost all printable; an attack has syntax in it (quotes, brackets, slashes,
  // line breaks).
  if (printable < bytes.length * 0.95 || punctuation === 0) return undefined;
  const text = decodeUtf8Lenient(bytes);
  return text.indexOf('\ufffd') === -1 ? text : undefined;
}
