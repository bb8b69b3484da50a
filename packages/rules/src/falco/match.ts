import { compileLinearRegex } from '../linear-regex.js';

/** String matchers built once per rule: globs and path-prefix sets. All run in linear time. */

function escapeRegex(c: string): string {
  return /[\\^$.|?*+()[\]{}]/.test(c) ? `\\${c}` : c;
}

/**
 * A glob as RE2 syntax: `*` any run of characters, `?` one character, `[…]` / `[!…]` a class.
 * With `inSegment`, wildcards do not cross `/` (as in pmatch's path components).
 */
function globToRegex(glob: string, inSegment: boolean): string {
  const any = inSegment ? '[^/]' : '(?s:.)';
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob.charAt(i);
    if (c === '*') out += `${any}*`;
    else if (c === '?') out += any;
    else if (c === '[') {
      const close = glob.indexOf(']', i + 2);
      if (close < 0) {
        out += '\\[';
        continue;
      }
      let body = glob.slice(i + 1, close);
      const negated = body.startsWith('!') || body.startsWith('^');
      if (negated) body = body.slice(1);
      out += `[${negated ? '^' : ''}${body.replace(/[\\\]]/g, '\\$&')}]`;
      i = close;
    } else out += escapeRegex(c);
  }
  return out;
}

/** True when `glob` has a wildcard; a glob without one is a plain comparison. */
export function hasGlobChars(text: string): boolean {
  return /[*?[]/.test(text);
}

/**
 * Falco's `glob`: the whole value must match the pattern; `*` also matches `/`.
 * @throws Error when the pattern cannot be compiled.
 */
export function compileGlob(glob: string): (value: string) => boolean {
  if (!hasGlobChars(glob)) return (value) => value === glob;
  const re = compileLinearRegex(globToRegex(glob, false), { dotAll: true });
  return (value) => re.matchesWhole(value);
}

interface TrieNode {
  terminal: boolean;
  children: Map<string, TrieNode>;
}

/**
 * Falco's `pmatch`: true when one of `prefixes` is the value or a directory above it, compared
 * component by component (`/tmp/hello` matches `/tmp/hello/world`, not `/tmp/hello_world`).
 * Prefixes may hold glob wildcards, which match within one component.
 * @throws Error when a glob prefix cannot be compiled.
 */
export function compilePathPrefixes(prefixes: readonly string[]): (value: string) => boolean {
  const root: TrieNode = { terminal: false, children: new Map() };
  const globs: { test(input: string): boolean }[] = [];
  for (const prefix of prefixes) {
    if (hasGlobChars(prefix)) {
      const parts = prefix.split('/').filter((p, i) => p !== '' || i === 0);
      const body = parts.map((p) => globToRegex(p, true)).join('/');
      globs.push(compileLinearRegex(`^${body}(?:/.*)?$`, { dotAll: true }));
      continue;
    }
    let node = root;
    for (const part of prefix.split('/')) {
      if (part === '') continue;
      let next = node.children.get(part);
      if (next === undefined) {
        next = { terminal: false, children: new Map() };
        node.children.set(part, next);
      }
      node = next;
    }
    node.terminal = true;
  }
  return (value) => {
    let node = root;
    if (node.terminal) return true;
    let start = 0;
    while (start <= value.length) {
      let end = value.indexOf('/', start);
      if (end < 0) end = value.length;
      if (end > start) {
        const next = node.children.get(value.slice(start, end));
        if (next === undefined) break;
        if (next.terminal) return true;
        node = next;
      }
      start = end + 1;
    }
    for (const g of globs) if (g.test(value)) return true;
    return false;
  };
}
