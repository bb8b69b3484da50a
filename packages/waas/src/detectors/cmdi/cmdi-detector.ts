import type { Detector, Finding, InspectedValue, Paranoia } from '../../types.js';
import { FETCHERS, SENSITIVE_PATH_PREFIXES, STRONG_COMMANDS, WEAK_COMMANDS } from './commands.js';
import { type CommandStart, commandStarts, readWord, skipBlanks } from './shell-scanner.js';

/**
 * OS command injection, found as a shell (sh/bash, and cmd where it costs nothing) would read
 * the value: a command separator or substitution followed by a word the shell would run. Prose
 * with `&`, `|` or `;` ("Tom & Jerry", "cats; dogs") has no command word after them.
 */

/** Confidences, on the inspector's scale: ≥ 0.9 blocks alone, about 0.6 alerts. */
const BLOCK_SURE = 0.95;
const BLOCK = 0.9;
const ALERT = 0.6;

/** What Windows `net` does that an attacker wants (`net user`, `net localgroup administrators`). */
const NET_SUBCOMMANDS = new Set([
  'user',
  'localgroup',
  'group',
  'view',
  'share',
  'use',
  'session',
  'accounts',
]);

/** Arguments read after a command word to judge it; more say nothing new. */
const MAX_ARGS = 4;

interface Evidence {
  /** 0 none; each of flag, path, URL, variable, redirection adds; a sensitive file adds 2. */
  score: number;
  /** The command has no arguments and ends at a separator, a substitution's end or the value's. */
  bare: boolean;
  /** A lone number follows and ends the command (`sleep 5`, `ping 10.0.0.1`). */
  numeric: boolean;
}

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= '0' && c <= '9';
}

function looksLikeAddress(arg: string): boolean {
  let dots = 0;
  for (const c of arg) {
    if (c === '.') dots++;
    else if (!isDigit(c)) return false;
  }
  return dots === 3;
}

function isSensitivePath(arg: string): boolean {
  for (const prefix of SENSITIVE_PATH_PREFIXES) if (arg.startsWith(prefix)) return true;
  return false;
}

/** `/etc`, `./x`, `~/x`: a file path, not `//` or a lone slash. */
function isPathStart(s: string, p: number): boolean {
  const c = s[p];
  if (c === '/') return isWordChar(s.charCodeAt(p + 1));
  if (c === '.' || c === '~') return s[p + 1] === '/' && isWordChar(s.charCodeAt(p + 2));
  return false;
}

function isCommandEnd(c: string | undefined): boolean {
  return (
    c === undefined ||
    c === ';' ||
    c === '|' ||
    c === '&' ||
    c === '\n' ||
    c === '\r' ||
    c === ')' ||
    c === '`'
  );
}

/** What follows the command word at `p`, up to the next separator. */
function readArguments(s: string, p: number, command: string): Evidence {
  const evidence: Evidence = { score: 0, bare: false, numeric: false };
  p = skipBlanks(s, p);
  if (isCommandEnd(s[p])) {
    evidence.bare = true;
    return evidence;
  }
  for (let k = 0; k < MAX_ARGS; k++) {
    p = skipBlanks(s, p);
    const c = s[p];
    if (isCommandEnd(c)) break;
    if (c === '>' || c === '<') {
      // A redirection to or from a file path (`> /tmp/x`, `< /etc/passwd`, `2>&1`).
      p++;
      while (s[p] === '>' || s[p] === '&') p++;
      const target = skipBlanks(s, p);
      if (isPathStart(s, target) || s[target] === '&' || isDigit(s[target])) evidence.score++;
      continue;
    }
    if (c === '$' || c === '`') evidence.score++;
    const word = readWord(s, p);
    if (word.end === p) break;
    const arg = word.text;
    // cmd reads `\\` as a path separator, not an escape: `type C:\\Windows\\win.ini`.
    const raw = s.slice(p, word.end).toLowerCase();
    p = word.end;
    if (arg.length >= 2 && arg[0] === '-' && !isDigit(arg[1])) evidence.score++;
    else if (isSensitivePath(arg) || isSensitivePath(raw)) evidence.score += 2;
    else if (k === 0 && command === 'net' && NET_SUBCOMMANDS.has(arg)) evidence.score++;
    else if (isPathStart(arg, 0)) evidence.score++;
    else if (arg.includes('://') || looksLikeAddress(arg)) evidence.score++;
    if (k === 0 && (isDigit(arg[0]) || looksLikeAddress(arg))) {
      evidence.numeric = isCommandEnd(s[skipBlanks(s, p)]);
    }
  }
  return evidence;
}

/** What `commandName` found; one object, reused, since every judged word needs one. */
const parsedName = { name: '', path: false };

/** The name a shell would look up for `word`: a path's last part, without `.exe`. */
function commandName(word: string): { name: string; path: boolean } {
  if (word === '%comspec%') {
    parsedName.name = 'cmd';
    parsedName.path = false;
    return parsedName;
  }
  // A URL form's `+` stands for a space the decoder may have left: `|getent+hosts+x`. Only a
  // `+` after the first character cuts (the first `+` decides).
  const n = word.length;
  const cuts = word.charCodeAt(0) !== 0x2b;
  let end = n;
  let slash = -1;
  for (let i = 0; i < n; i++) {
    const c = word.charCodeAt(i);
    if (c === 0x2b && cuts) {
      end = i;
      break;
    }
    if (c === 0x2f || c === 0x5c) slash = i;
  }
  let name = slash < 0 && end === n ? word : word.slice(slash + 1, end);
  if (name.endsWith('.exe')) name = name.slice(0, -4);
  parsedName.name = name;
  parsedName.path = slash >= 0;
  return parsedName;
}

function isSystemPath(word: string): boolean {
  return (
    word.startsWith('/bin/') ||
    word.startsWith('/sbin/') ||
    word.startsWith('/usr/') ||
    word.startsWith('/tmp/') ||
    word.startsWith('/dev/shm/') ||
    word.startsWith('./') ||
    word.startsWith('c:\\windows\\') ||
    word.startsWith('%windir%') ||
    word.startsWith('%systemroot%')
  );
}

/** How sure a command word at this start makes us, 0 for none. */
function judge(s: string, start: CommandStart, paranoia: Paranoia): [number, string] {
  let word = readWord(s, start.word, start.kind === 'brace');
  if (start.kind === 'value') {
    // `cmd=cat /etc/passwd`: a form field's name and `=` in front of the command line.
    const eq = word.text.indexOf('=');
    if (eq > 0 && eq < word.text.length - 1) word = readWord(s, start.word + eq + 1);
  }
  if (word.text.length === 0) return [0, ''];
  const { name, path } = commandName(word.text);
  const strong = STRONG_COMMANDS.has(name);
  const weak = !strong && WEAK_COMMANDS.has(name);
  const known = strong || weak;
  if (!known && !(path && isSystemPath(word.text))) {
    if (start.kind === 'substitution' && s[start.at] === '$' && paranoia >= 2) {
      return [ALERT, 'command substitution'];
    }
    return [0, ''];
  }
  const label = path ? `path ${word.text}` : `command ${name}`;
  if (start.kind === 'brace') {
    return [known ? BLOCK_SURE : 0, `brace expansion runs ${label}`];
  }
  const evidence = readArguments(s, word.end, name);
  if (start.kind === 'value') {
    // The whole value as a command line: prose starts with "cat", "echo", "bash" too.
    const fetching = FETCHERS.has(name) && evidence.score >= 1;
    if (evidence.score >= 2 || fetching) return [BLOCK, `value is a command line: ${label}`];
    if (evidence.score >= 1 && paranoia >= 2) return [ALERT, `value may be a command: ${label}`];
    return [0, ''];
  }
  const how = start.kind === 'substitution' ? 'substitution runs' : 'separator then';
  if (strong || path) return [BLOCK_SURE, `${how} ${label}`];
  if (evidence.score >= 1 || evidence.bare || evidence.numeric || word.obfuscated) {
    return [BLOCK, `${how} ${label} with shell arguments`];
  }
  if (start.kind === 'substitution') return [BLOCK, `${how} ${label}`];
  return paranoia >= 2 ? [ALERT, `${how} ${label}`] : [0, ''];
}

/** Attacks on the shell itself or on neighbours of it that need no separator. */
function specialForms(s: string): [number, number, string] | undefined {
  // Shellshock: bash imported a variable starting with `() {` as a function and ran what follows.
  const shellshock = skipBlanks(s, 0);
  if (s.startsWith('() {', shellshock) || s.startsWith('(){', shellshock)) {
    return [BLOCK_SURE, shellshock, 'function definition in a variable (Shellshock)'];
  }
  const ssi = s.indexOf('<!--#exec');
  if (ssi >= 0) return [BLOCK_SURE, ssi, 'server-side include runs a command'];
  const yaml = s.indexOf('!!python/object');
  if (yaml >= 0) return [BLOCK, yaml, 'YAML tag constructs a Python object'];
  const php = s.indexOf('${@');
  if (php >= 0) {
    let p = php + 3;
    while (p < s.length && p - php < 32 && /* identifier */ isWordChar(s.charCodeAt(p))) p++;
    if (s[p] === '(') return [BLOCK, php, 'PHP expression calls a function'];
  }
  return undefined;
}

function isWordChar(c: number): boolean {
  return (
    (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f
  );
}

/**
 * Whether `s` holds a character at which `commandStarts` finds more than the value's start:
 * `;`, `&`, `|`, `(`, `{`, a backtick or a line break. Without one, no separator, substitution
 * or brace expansion exists to judge.
 */
function hasStartCharacter(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    switch (s.charCodeAt(i)) {
      case 0x3b:
      case 0x26:
      case 0x7c:
      case 0x28:
      case 0x7b:
      case 0x60:
      case 0x0a:
      case 0x0d:
        return true;
      default:
    }
  }
  return false;
}

function inspect(at: InspectedValue, paranoia: Paranoia): Finding[] {
  const s = at.value;
  if (s.length < 2) return [];
  let best = 0;
  let bestAt = 0;
  let bestReason = '';
  const special = specialForms(s);
  if (special !== undefined) [best, bestAt, bestReason] = special;
  if (best < BLOCK_SURE) {
    // The value's own start first: most values have no other place a command could start, and
    // then need no list of starts at all.
    const [confidence, reason] = judge(
      s,
      { kind: 'value', at: 0, word: skipBlanks(s, 0) },
      paranoia,
    );
    if (confidence > best) {
      best = confidence;
      bestAt = 0;
      bestReason = reason;
    }
  }
  if (best < BLOCK_SURE && hasStartCharacter(s)) {
    const starts = commandStarts(s);
    // starts[0] is the value's start, judged above.
    for (let i = 1; i < starts.length; i++) {
      const start = starts[i]!;
      const [confidence, reason] = judge(s, start, paranoia);
      if (confidence > best) {
        best = confidence;
        bestAt = start.at;
        bestReason = reason;
        if (best >= BLOCK_SURE) break;
      }
    }
  }
  if (best === 0) return [];
  return [
    {
      category: 'cmdi',
      location: at.location,
      evidence: s.slice(bestAt, bestAt + 200),
      confidence: best,
      reason: bestReason,
    },
  ];
}

/** Finds shell commands a value would run: separators, substitutions and the words after them. */
export const cmdiDetector: Detector = {
  name: 'cmdi',
  categories: ['cmdi'],
  inspect(value, paranoia) {
    try {
      return inspect(value, paranoia);
    } catch {
      return [];
    }
  },
};
