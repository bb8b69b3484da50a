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

/**
 * SMTP and POP3 commands (RFC 5321, RFC 1939) and how many arguments each takes: a line is one
 * of them only with that many (`QUIT smoking campaign` is prose). `arg` says what the argument
 * looks like in a text area, where a person may write `USER GUIDE` on a line of its own: a host
 * name with a dot, a number, or anything (then the verb counts outside text areas only).
 */
const MAIL_VERBS: ReadonlyMap<
  string,
  { min: number; max: number; arg: 'host' | 'number' | 'any' }
> = new Map([
  ['HELO', { min: 1, max: 1, arg: 'host' }],
  ['EHLO', { min: 1, max: 1, arg: 'host' }],
  ['DATA', { min: 0, max: 0, arg: 'any' }],
  ['RSET', { min: 0, max: 0, arg: 'any' }],
  ['QUIT', { min: 0, max: 0, arg: 'any' }],
  ['NOOP', { min: 0, max: 0, arg: 'any' }],
  ['STARTTLS', { min: 0, max: 0, arg: 'any' }],
  ['TURN', { min: 0, max: 0, arg: 'any' }],
  ['STAT', { min: 0, max: 0, arg: 'any' }],
  ['VRFY', { min: 1, max: 1, arg: 'any' }],
  ['EXPN', { min: 1, max: 1, arg: 'any' }],
  ['AUTH', { min: 1, max: 2, arg: 'any' }],
  ['USER', { min: 1, max: 1, arg: 'any' }],
  ['PASS', { min: 1, max: 1, arg: 'any' }],
  ['APOP', { min: 2, max: 2, arg: 'any' }],
  ['RETR', { min: 1, max: 1, arg: 'number' }],
  ['DELE', { min: 1, max: 1, arg: 'number' }],
  ['UIDL', { min: 0, max: 1, arg: 'number' }],
]);

function isNumber(word: string): boolean {
  if (word === '') return false;
  for (let i = 0; i < word.length; i++) {
    const c = word.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** IMAP commands (RFC 9051), after a tag. */
const IMAP_COMMANDS: ReadonlySet<string> = new Set([
  'CAPABILITY',
  'LOGIN',
  'LOGOUT',
  'AUTHENTICATE',
  'STARTTLS',
  'SELECT',
  'EXAMINE',
  'CREATE',
  'DELETE',
  'RENAME',
  'SUBSCRIBE',
  'UNSUBSCRIBE',
  'LIST',
  'LSUB',
  'STATUS',
  'APPEND',
  'CHECK',
  'CLOSE',
  'EXPUNGE',
  'SEARCH',
  'FETCH',
  'STORE',
  'COPY',
  'MOVE',
  'UID',
  'NOOP',
  'IDLE',
  'ENABLE',
  'NAMESPACE',
]);

/** Characters of a line read for a mail command: commands are short. */
const MAX_COMMAND_LINE = 200;

/**
 * The mail protocol command a line is, or undefined: an SMTP/POP3 verb in capitals with the
 * arguments it takes (`QUIT`, `HELO evil.example`, `RETR 1`), or an IMAP command after a tag of
 * letters and digits (`A7 FETCH 1:* BODY[]`). In a text area (`strict`), where people write
 * headings and lists, the IMAP command must be in capitals too (`A1 list of things` is prose),
 * a verb's argument must look like one (a host name, a number), and a verb alone on its line
 * (`DATA`) counts only in a value that starts with the line break (`\r\nQUIT\r\n`).
 */
function mailCommand(line: string, strict: boolean, startsValue: boolean): string | undefined {
  const words = line
    .trim()
    .split(' ')
    .filter((w) => w !== '');
  const first = words[0] ?? '';
  const verb = MAIL_VERBS.get(first);
  if (verb !== undefined) {
    const args = words.length - 1;
    if (args < verb.min || args > verb.max) return undefined;
    if (!strict) return first;
    if (args === 0) return startsValue ? first : undefined;
    const arg = words[1] ?? '';
    if (verb.arg === 'host' && arg.includes('.')) return first;
    if (verb.arg === 'number' && isNumber(arg)) return first;
    return undefined;
  }
  if (words.length < 2) return undefined;
  let letters = 0;
  let digits = 0;
  for (let i = 0; i < first.length; i++) {
    const c = first.charCodeAt(i);
    if (c >= 48 && c <= 57) digits++;
    else if ((c >= 65 && c <= 90) || (c >= 97 && c <= 122)) letters++;
    else return undefined;
  }
  if (digits === 0 || letters + digits > 12) return undefined;
  const command = words[1] ?? '';
  const upper = command.toUpperCase();
  if (!IMAP_COMMANDS.has(upper) || (strict && command !== upper)) return undefined;
  return `${first} ${upper}`;
}

/**
 * CRLF and header injection (category `crlf`): a line break followed by `Header-Name:`, or by a
 * mail protocol command (SMTP, POP3, IMAP) for a parameter that ends up in a mail session.
 */
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
        if (j > nameStart) {
          let lineEnd = j;
          const limit = Math.min(n, nameStart + MAX_COMMAND_LINE);
          while (lineEnd < limit && !isBreak(text.charCodeAt(lineEnd))) lineEnd++;
          const command = mailCommand(
            text.slice(nameStart, lineEnd),
            inBody,
            text.slice(0, i).trim() === '',
          );
          if (command !== undefined) {
            return [
              finding(
                value,
                'crlf',
                0.95,
                `a line break followed by the mail command "${command}"`,
                text.slice(i, i + 200),
              ),
            ];
          }
        }
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
