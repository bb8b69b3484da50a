import { hexValue, NAMED_ENTITIES } from '../../decode.js';
/**
 * Character references as a browser resolves them inside attribute values: numeric ones (with
 * or without the `;`, any number of leading zeros) and the named ones attackers use to hide
 * `javascript:` and calls. The inspector decodes once; a browser decodes an attribute value
 * again, so `&amp;#106;avascript:` becomes `javascript:` in an href. Named references are the
 * inspector's own table (`NAMED_ENTITIES`), as its first decoding reads them.
 */

/** `s` with its character references resolved; returns `s` itself when it has none. */
export function decodeEntities(s: string): string {
  let amp = s.indexOf('&');
  if (amp < 0) return s;
  let out = '';
  let last = 0;
  const n = s.length;
  while (amp >= 0) {
    let p = amp + 1;
    let decoded: string | undefined;
    if (p < n && s.charCodeAt(p) === 0x23) {
      p++;
      const hex = p < n && (s.charCodeAt(p) | 0x20) === 0x78;
      if (hex) p++;
      const digitsStart = p;
      let cp = 0;
      while (p < n) {
        const d = hex ? hexValue(s.charCodeAt(p)) : s.charCodeAt(p) - 0x30;
        if (d < 0 || d > (hex ? 15 : 9)) break;
        // Past U+10FFFF a browser substitutes U+FFFD; stop growing to stay in range.
        if (cp <= 0x10ffff) cp = cp * (hex ? 16 : 10) + d;
        p++;
      }
      if (p > digitsStart) {
        decoded = cp > 0 && cp <= 0x10ffff ? String.fromCodePoint(cp) : '\ufffd';
        if (p < n && s.charCodeAt(p) === 0x3b) p++;
      }
    } else {
      const nameStart = p;
      while (p < n && p - nameStart < 10) {
        const c = s.charCodeAt(p) | 0x20;
        if (c < 0x61 || c > 0x7a) break;
        p++;
      }
      const named = NAMED_ENTITIES[s.slice(nameStart, p).toLowerCase()];
      if (named !== undefined) {
        decoded = named;
        if (p < n && s.charCodeAt(p) === 0x3b) p++;
      }
    }
    if (decoded !== undefined) {
      out += s.slice(last, amp) + decoded;
      last = p;
    }
    amp = s.indexOf('&', decoded === undefined ? amp + 1 : p);
  }
  return out + s.slice(last);
}

/**
 * A URL attribute's value as a browser's URL parser reads its scheme: entities resolved,
 * leading C0 controls and spaces dropped, tabs and newlines removed anywhere, lower-cased.
 * Only the first `limit` characters matter for a scheme.
 */
export function normalizeUrlStart(value: string, limit = 64): string {
  const decoded = decodeEntities(value.length > limit * 8 ? value.slice(0, limit * 8) : value);
  let out = '';
  for (let i = 0; i < decoded.length && out.length < limit; i++) {
    const c = decoded.charCodeAt(i);
    if (c === 0x09 || c === 0x0a || c === 0x0d) continue;
    if (out.length === 0 && (c <= 0x20 || c === 0xfeff || c === 0xa0)) continue;
    // Old engines also dropped other control characters inside a scheme (`java\0script:`).
    if (c < 0x20) continue;
    out += decoded[i];
  }
  return out.toLowerCase();
}

/** What a URL's scheme would make a browser do, if anything. */
export function dangerousScheme(normalized: string): 'script' | 'html' | undefined {
  if (
    normalized.startsWith('javascript:') ||
    normalized.startsWith('vbscript:') ||
    normalized.startsWith('livescript:') ||
    normalized.startsWith('mocha:')
  ) {
    return 'script';
  }
  if (normalized.startsWith('data:')) {
    const type = normalized.slice(5, 40);
    if (
      type.startsWith('text/html') ||
      type.startsWith('image/svg') ||
      type.startsWith('application/xhtml') ||
      type.startsWith('application/xml') ||
      type.startsWith('text/xml') ||
      type.startsWith('text/javascript') ||
      type.startsWith('application/javascript') ||
      type.startsWith('application/x-shockwave') ||
      type.startsWith(',') ||
      type.startsWith(';base64')
    ) {
      return 'html';
    }
  }
  return undefined;
}
