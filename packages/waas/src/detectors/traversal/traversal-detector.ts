import type { Category, Detector, Finding, InspectedValue, Paranoia } from '../../types.js';
import { normalizePath } from './path-normalizer.js';

/**
 * Path traversal, local and remote file inclusion, judged on the path a file API would
 * resolve: `..` segments in any spelling (`..\`, `....//`, `..;/`, overlong and unicode
 * slashes), absolute paths to files attackers read, PHP stream wrappers, and URLs to scripts
 * in parameters that name a file. Versions (`1.2.3`), ellipses and relative paths pass.
 */

/** Confidences, on the inspector's scale: ≥ 0.9 blocks alone, about 0.6 alerts. */
const BLOCK_SURE = 0.95;
const BLOCK = 0.9;
const ALERT = 0.6;

/** Directories and files under a root that only an attacker asks a web application for. */
const ROOTED_TARGETS: readonly string[] = [
  'etc/passwd',
  'etc/shadow',
  'etc/group',
  'etc/hosts',
  'etc/issue',
  'etc/motd',
  'etc/sudoers',
  'etc/crontab',
  'etc/fstab',
  'etc/ssh/',
  'etc/mysql/',
  'etc/apache2/',
  'etc/httpd/',
  'etc/nginx/',
  'etc/php',
  'etc/resolv.conf',
  'etc/hostname',
  'proc/self/',
  'proc/version',
  'proc/cpuinfo',
  'proc/net/',
  'var/log/',
  'var/run/secrets/',
  'root/.',
  'windows/win.ini',
  'windows/system.ini',
  'windows/system32/',
  'winnt/',
  'boot.ini',
  'inetpub/',
  'users/default/',
];

/** File names worth a read wherever they sit. */
const FILE_TARGETS: readonly string[] = [
  'win.ini',
  'boot.ini',
  'ntuser.dat',
  '.htpasswd',
  '.htaccess',
  'id_rsa',
  'id_ed25519',
  'authorized_keys',
  '.bash_history',
  'wp-config.php',
  'web.config',
  'web-inf/web.xml',
  '.git/config',
  '.git/head',
  '.env',
  'localsettings.php',
  'configuration.php',
  'etc/passwd',
  'etc/shadow',
  'proc/self/environ',
];

/**
 * FILE_TARGETS by their first character code (ASCII): a target `checkTargets` can report starts
 * at the path's start or right after a `/` or `.`, so only those places need comparing.
 */
const TARGETS_BY_FIRST: readonly number[][] = (() => {
  const table: number[][] = Array.from({ length: 128 }, () => []);
  FILE_TARGETS.forEach((target, k) => table[target.charCodeAt(0)]!.push(k));
  return table;
})();

/**
 * Bits (by index in FILE_TARGETS) of the targets that occur in `path` at or after `from` at a
 * bounded place: the start, or after `/` or `.`. A superset of those `checkTargets` reports.
 */
function boundedTargets(path: string, from: number): number {
  let mask = 0;
  const n = path.length;
  for (let p = from; p < n; p++) {
    if (p > 0) {
      const before = path.charCodeAt(p - 1);
      if (before !== 0x2f && before !== 0x2e) continue;
    }
    const c = path.charCodeAt(p);
    if (c >= 128) continue;
    for (const k of TARGETS_BY_FIRST[c]!) {
      if (path.startsWith(FILE_TARGETS[k]!, p)) mask |= 1 << k;
    }
  }
  return mask;
}

/** Stream wrappers PHP's include and file functions accept. */
const WRAPPERS: readonly string[] = [
  'php://',
  'phar://',
  'zip://',
  'data://',
  'expect://',
  'glob://',
  'compress.zlib://',
  'compress.bzip2://',
  'rar://',
  'ogg://',
  'ssh2.shell://',
  'ssh2.exec://',
  'file://',
  'jar:',
  'netdoc:',
];

/** Parameter names under which an application includes or reads a file or fetches a URL. */
const FILE_PARAMETERS: readonly string[] = [
  'file',
  'page',
  'include',
  'inc',
  'template',
  'tpl',
  'path',
  'url',
  'uri',
  'dir',
  'doc',
  'folder',
  'root',
  'style',
  'view',
  'content',
  'layout',
  'module',
  'mod',
  'conf',
  'lang',
  'load',
  'read',
  'show',
  'site',
  'src',
  'source',
  'skin',
  'theme',
  'pg',
  'filename',
  'location',
  'download',
  'redirect',
];

/** Extensions of what an include runs or reads as code. */
const SCRIPT_EXTENSIONS: readonly string[] = [
  '.txt',
  '.php',
  '.phtml',
  '.php5',
  '.inc',
  '.sh',
  '.pl',
  '.py',
  '.cgi',
  '.asp',
  '.aspx',
  '.jsp',
  '.gif',
  '.jpg',
  '.png',
];

interface Scan {
  at: InspectedValue;
  findings: Finding[];
}

function add(
  scan: Scan,
  category: Category,
  confidence: number,
  evidence: string,
  reason: string,
): void {
  const same = scan.findings.find((f) => f.category === category);
  if (same !== undefined) {
    if (same.confidence >= confidence) return;
    scan.findings.splice(scan.findings.indexOf(same), 1);
  }
  scan.findings.push({
    category,
    location: scan.at.location,
    evidence: evidence.slice(0, 200),
    confidence,
    reason,
  });
}

interface Traversal {
  /** `..` segments. */
  count: number;
  /** Offset (in the normalized text) after the last `..` segment's slash. */
  after: number;
  first: number;
}

/**
 * Counts the segments a file API would resolve to the parent: two or more dots only
 * (`..`, and `....` that a filter stripping `../` once turns into `..`), optionally followed by
 * `;…` (a servlet path parameter) or trailing spaces (Windows drops them).
 */
function countTraversals(path: string): Traversal {
  const result: Traversal = { count: 0, after: -1, first: -1 };
  // Every counted segment starts with two dots.
  if (!path.includes('..')) return result;
  const n = path.length;
  let start = 0;
  while (start <= n) {
    let end = path.indexOf('/', start);
    if (end < 0) end = n;
    let p = start;
    while (p < end && path.charCodeAt(p) === 0x2e) p++;
    const dots = p - start;
    if (dots >= 2) {
      let rest = p;
      if (path[rest] === ';') rest = end;
      while (rest < end && (path[rest] === ' ' || path[rest] === '\0')) rest++;
      // A lone `..` at the very end of prose ("wait..") is no path: it needs a slash on one side.
      const slashed = end < n || (start > 0 && path[start - 1] === '/');
      if (rest === end && slashed) {
        result.count++;
        if (result.first < 0) result.first = start;
        result.after = end + 1;
      }
    }
    start = end + 1;
  }
  return result;
}

function hasSpace(s: string, from: number): boolean {
  for (let i = from; i < s.length; i++) if (s.charCodeAt(i) <= 0x20) return true;
  return false;
}

/** Where `path` starts once a `file:` scheme, a drive letter and leading slashes are dropped. */
function rootedStart(path: string): number {
  let p = 0;
  if (path.startsWith('file:')) p = 5;
  const c = path.charCodeAt(p);
  if (c >= 0x61 && c <= 0x7a && path[p + 1] === ':') p += 2;
  let slashes = 0;
  while (path[p] === '/') {
    p++;
    slashes++;
  }
  return slashes > 0 || p > 0 ? p : -1;
}

function isFileParameter(name: string): boolean {
  const lower = name.toLowerCase();
  for (const candidate of FILE_PARAMETERS) {
    if (lower === candidate || lower.endsWith(`_${candidate}`) || lower.startsWith(candidate)) {
      return true;
    }
  }
  return false;
}

function checkTargets(scan: Scan, path: string, traversal: Traversal): void {
  // After `../`: anything sensitive in the rest. Rooted: the value starts at `/` or `C:\`.
  const rooted = rootedStart(path);
  if (rooted >= 0) {
    for (const target of ROOTED_TARGETS) {
      if (path.startsWith(target, rooted)) {
        add(scan, 'lfi', BLOCK_SURE, path, `absolute path to ${target}`);
        return;
      }
    }
  }
  const from = traversal.count > 0 ? traversal.first : 0;
  const candidates = boundedTargets(path, from);
  for (let k = 0; candidates !== 0 && k < FILE_TARGETS.length; k++) {
    if ((candidates & (1 << k)) === 0) continue;
    const target = FILE_TARGETS[k]!;
    const at = path.indexOf(target, from);
    if (at < 0) continue;
    const bounded = at === 0 || path[at - 1] === '/' || path[at - 1] === '.';
    if (!bounded) continue;
    if (traversal.count > 0) {
      add(scan, 'lfi', BLOCK_SURE, path, `traversal to ${target}`);
    } else if (!hasSpace(path, 0)) {
      add(scan, 'lfi', BLOCK, path, `path to ${target}`);
    } else {
      add(scan, 'lfi', ALERT, path, `mentions ${target}`);
    }
    return;
  }
  // `\\host\c$\…`: a Windows administrative share.
  if (path.startsWith('//') && path.indexOf('/c$/') > 0) {
    add(scan, 'lfi', BLOCK, path, 'path into an administrative share');
  }
}

function checkWrappers(scan: Scan, path: string): void {
  const start = path.length - path.trimStart().length;
  for (const wrapper of WRAPPERS) {
    const at = path.indexOf(wrapper);
    if (at < 0) continue;
    if (wrapper === 'file://' || wrapper === 'jar:' || wrapper === 'netdoc:') {
      if (at === start) add(scan, 'lfi', BLOCK, path, `${wrapper} URL`);
      continue;
    }
    // `data://` is a wrapper; `data:` alone is the XSS detector's.
    add(scan, 'lfi', at === start ? BLOCK_SURE : BLOCK, path, `PHP stream wrapper ${wrapper}`);
    return;
  }
}

function checkRemote(scan: Scan, path: string, paranoia: Paranoia): void {
  const start = path.length - path.trimStart().length;
  let p = start;
  if (path.startsWith('http://', p)) p += 7;
  else if (path.startsWith('https://', p)) p += 8;
  else if (path.startsWith('ftp://', p)) p += 6;
  else if (path.startsWith('//', p) && path[p + 2] !== '/') p += 2;
  else return;
  const slash = path.indexOf('/', p);
  if (slash < 0) return;
  let end = path.length;
  for (let i = slash; i < path.length; i++) {
    const c = path[i];
    if (c === '?' || c === '#' || c === '\0') {
      end = i;
      break;
    }
  }
  const resource = path.slice(slash, end);
  const script = SCRIPT_EXTENSIONS.some((ext) => resource.endsWith(ext));
  // A trailing `?` or NUL cuts off the extension the application appends.
  const truncated = end < path.length && (end === path.length - 1 || path[end] === '\0');
  const fileParameter = isFileParameter(scan.at.name);
  const evidence = path.slice(start, start + 200);
  if (fileParameter && (script || truncated)) {
    add(scan, 'rfi', BLOCK, evidence, 'includes a script from a URL');
  } else if (script && truncated) {
    add(scan, 'rfi', BLOCK, evidence, 'URL to a script with its extension cut off');
  } else if (script || truncated) {
    if (paranoia >= 2) add(scan, 'rfi', ALERT, evidence, 'URL to a script');
  } else if (fileParameter && paranoia >= 2) {
    add(scan, 'rfi', ALERT, evidence, 'URL in a file parameter');
  }
}

/**
 * Whether `s` has a character that is or normalizes to one every finding needs: `.` (a `..`
 * segment; targets and script extensions), `/` (a root, a segment), `:` (drive letters,
 * wrappers, URLs) or `_` (`id_rsa`, `authorized_keys`). `normalizePath` makes `.` and `/` only
 * from `\\`, `%` escapes and non-ASCII characters, so a value with none of these passes.
 */
function mayHoldPath(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x2e || c === 0x2f || c === 0x3a || c === 0x5f || c === 0x5c || c === 0x25) {
      return true;
    }
    if (c > 0x7e) return true;
  }
  return false;
}

function inspect(at: InspectedValue, paranoia: Paranoia): Finding[] {
  const value = at.value;
  if (value.length < 3) return [];
  const scan: Scan = { at, findings: [] };
  const paths: string[] = [];
  if (mayHoldPath(value)) paths.push(normalizePath(value));
  // The raw value keeps what a decoder may have garbled (`%c0%af` turned into U+FFFD); when it
  // normalizes to the same path, a second look would find the same.
  if (at.raw !== value && at.raw.includes('%')) {
    const raw = normalizePath(at.raw);
    if (raw !== paths[0]) paths.push(raw);
  }
  for (const path of paths) {
    const traversal = countTraversals(path);
    if (traversal.count >= 2) {
      add(
        scan,
        'path-traversal',
        BLOCK_SURE,
        path.slice(traversal.first),
        `${traversal.count} parent-directory segments`,
      );
    } else if (traversal.count === 1) {
      const tail = traversal.after;
      const pathLike = !hasSpace(path, traversal.first) && tail < path.length;
      const confidence = pathLike || at.kind === 'path' ? BLOCK : ALERT;
      add(
        scan,
        'path-traversal',
        confidence,
        path.slice(traversal.first),
        'parent-directory segment',
      );
    }
    checkTargets(scan, path, traversal);
    if (path.includes(':')) {
      checkWrappers(scan, path);
      checkRemote(scan, path, paranoia);
    }
    if (traversal.count > 0 && path.includes('\0')) {
      add(scan, 'lfi', BLOCK, path, 'NUL byte cuts the path');
    }
  }
  return scan.findings;
}

/** Finds `..` traversal, sensitive files, PHP wrappers (lfi) and remote includes (rfi). */
export const traversalDetector: Detector = {
  name: 'traversal',
  categories: ['path-traversal', 'lfi', 'rfi'],
  inspect(value, paranoia) {
    try {
      return inspect(value, paranoia);
    } catch {
      return [];
    }
  },
};
