import { hexValue } from '../../decode.js';

/**
 * A value as a file API would resolve it: every spelling of a slash (`\`, `∕`, `／`, overlong
 * UTF-8 `%c0%af` and its remnants) becomes `/`, every spelling of a dot becomes `.`, percent
 * escapes the decoder left (a third level of encoding) are resolved, ASCII is lower-cased.
 * One pass; the output is never longer than the input.
 */

/** The byte a `%XX` at `i` stands for, following `%25` (an encoded `%`) up to twice. */
function percentByte(s: string, i: number): { byte: number; length: number } | undefined {
  let p = i;
  for (let depth = 0; depth < 3; depth++) {
    if (s.charCodeAt(p) !== 0x25) return undefined;
    const hi = hexValue(s.charCodeAt(p + 1));
    const lo = hexValue(s.charCodeAt(p + 2));
    if (hi < 0 || lo < 0) return undefined;
    const byte = hi * 16 + lo;
    if (byte !== 0x25) return { byte, length: p + 3 - i };
    // `%252e`: the `%25` is a `%` and the `2e` after it the rest of the escape.
    if (hexValue(s.charCodeAt(p + 3)) < 0 || hexValue(s.charCodeAt(p + 4)) < 0) return undefined;
    const byte2 = hexValue(s.charCodeAt(p + 3)) * 16 + hexValue(s.charCodeAt(p + 4));
    if (byte2 !== 0x25) return { byte: byte2, length: p + 5 - i };
    p += 3;
  }
  return undefined;
}

function slashOrDot(lead: number, trail: number): string | undefined {
  // Overlong encodings of `.` (2e), `/` (2f) and `\` (5c): C0 AE, C0 AF, C1 9C; E0 80 AE/AF.
  if (lead === 0xc0 && trail === 0xae) return '.';
  if (lead === 0xc0 && trail === 0xaf) return '/';
  if (lead === 0xc1 && trail === 0x9c) return '/';
  if (lead === 0xc1 && trail === 0x8c) return '/';
  return undefined;
}

/** Whether `s` needs more than lower-casing: a backslash, a `%`, or anything not ASCII. */
function needsMapping(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x5c || c === 0x25 || c > 0x7e) return true;
  }
  return false;
}

export function normalizePath(s: string): string {
  if (!needsMapping(s)) return s.toLowerCase();
  let out = '';
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25) {
      const first = percentByte(s, i);
      if (first !== undefined) {
        if (first.byte === 0xc0 || first.byte === 0xc1 || first.byte === 0xe0) {
          let j = i + first.length;
          if (first.byte === 0xe0) {
            const mid = percentByte(s, j);
            if (mid?.byte === 0x80) j += mid.length;
          }
          const second = percentByte(s, j);
          const mapped =
            second === undefined
              ? undefined
              : slashOrDot(first.byte === 0xe0 ? 0xc0 : first.byte, second.byte);
          if (mapped !== undefined && second !== undefined) {
            out += mapped;
            i = j + second.length - 1;
            continue;
          }
        }
        if (first.byte === 0x2e || first.byte === 0x2f || first.byte === 0x5c) {
          out += first.byte === 0x2e ? '.' : '/';
          i += first.length - 1;
          continue;
        }
      }
      out += '%';
      continue;
    }
    // Remnants of overlong sequences a decoder read as Latin-1: `À®` is `.`, `À¯` is `/`.
    if ((c === 0xc0 || c === 0xc1) && i + 1 < n) {
      const mapped = slashOrDot(c, s.charCodeAt(i + 1));
      if (mapped !== undefined) {
        out += mapped;
        i++;
        continue;
      }
    }
    if (c === 0xe0 && s.charCodeAt(i + 1) === 0x80 && i + 2 < n) {
      const mapped = slashOrDot(0xc0, s.charCodeAt(i + 2));
      if (mapped !== undefined) {
        out += mapped;
        i += 2;
        continue;
      }
    }
    switch (c) {
      case 0x5c: // backslash, Windows
      case 0x2215: // division slash
      case 0x2044: // fraction slash
      case 0x29f8: // big solidus
      case 0xff0f: // fullwidth solidus
      case 0xff3c: // fullwidth reverse solidus
      case 0x2216: // set minus, looks like a backslash
        out += '/';
        break;
      case 0xff0e: // fullwidth full stop
      case 0x2024: // one dot leader
      case 0xfe52: // small full stop
        out += '.';
        break;
      default:
        out += c >= 0x41 && c <= 0x5a ? String.fromCharCode(c + 0x20) : s[i];
    }
  }
  return out;
}
