import type { Detector, Finding, InspectedValue, Paranoia } from '../types.js';
import { finding } from './util.js';

/**
 * Response and mail headers an injected line is made of. In bodies (text areas, where line breaks
 * are normal) only these count; in the URL, headers and cookies any `Name:` after a line break.
 */
const KNOWN_HEADERS = new Set([
  'set-cookie',
  'location',
  'content-type',
  'content-length',
  'content-disposition',
  'content-security-policy',
  'access-control-allow-origin',
  'access-control-allow-credentials',
  'x-xss-protection',
  'x-frame-options',
  'refresh',
  'host',
  'cookie',
  'transfer-encoding',
  'rcpt to',
  'mail from',
  'bcc',
  'cc',
  'to',
]);

/**
 * A line break as some server reads it: CR, LF, and the characters whose low byte is CR or LF
 * (`U+560D` 嘍), which servers that cut characters to bytes turn into line breaks.
 */
function isBreak(c: number): boolean {
  return c === 10 || c === 13 || (c > 0xff && ((c & 0xff) === 10 || (c & 0xff) === 13));
}

/** A fast test before the scan: CR, LF, and the low-byte look-alikes seen in attacks. */
function hasBreak(text: string): boolean {
  return (
    text.indexOf('\n') !== -1 ||
    text.indexOf('\r') !== -1 ||
    text.indexOf('\u560a') !== -1 ||
    text.indexOf('\u560d') !== -1 ||
    text.indexOf('\u010a') !== -1 ||
    text.indexOf('\u010d') !== -1
  );
}

function isTokenChar(c: number): boolean {
  return (
    (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 45 || c === 95
  );
}

/** CRLF and header injection (category `crlf`): a line break followed by `Header-Name:`. */
export const crlfCheck: Detector = {
  name: 'crlf-injection',
  categories: ['crlf'],
  inspect(value: InspectedValue, paranoia: Paranoia): Finding[] {
    const text = value.value;
    const inBody = value.kind === 'body' || value.kind === 'json-key';
    if (inBody && paranoia < 2 && value.name === '') return [];
    if (!hasBreak(text)) return [];
    const n = text.length;
    for (let i = 0; i < n; i++) {
      if (!isBreak(text.charCodeAt(i))) continue;
      let j = i + 1;
      while (j < n && (isBreak(text.charCodeAt(j)) || text.charCodeAt(j) === 32)) j++;
      const nameStart = j;
      while (j < n && (isTokenChar(text.charCodeAt(j)) || text.charCodeAt(j) === 32)) j++;
      if (j === nameStart || text.charCodeAt(j) !== 58 /* : */) {
        i = j - 1;
        continue;
      }
      const name = text.slice(nameStart, j).trim().toLowerCase();
      if (name === '' || (name.includes(' ') && !KNOWN_HEADERS.has(name))) {
        i = j - 1;
        continue;
      }
      if (inBody && !KNOWN_HEADERS.has(name)) {
        i = j - 1;
        continue;
      }
      return [
        finding(
          value,
          'crlf',
          1,
          `a line break followed by the header "${name}:"`,
          text.slice(i, i + 200),
        ),
      ];
    }
    return [];
  },
};
