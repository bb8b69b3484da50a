import { posix } from 'node:path';
import type { Event__Output, Process__Output, Connection__Output } from '@mamori/proto';
import { EVENT_KINDS, type EventKind } from '../rule.js';

/**
 * Falco's syscall fields, answered from Mamori's events, and Mamori's own fields of web requests.
 *
 * Each Mamori payload kind stands for one Falco syscall event (`process_exec` is the exit of
 * `execve`, `file_open` of `openat`, …). Web requests a WAAS inspected (`http_request`) are no
 * syscall: their fields are Mamori's (`http.*` from the request, `waas.*` from the verdict in
 * the event's labels), and only rules that name them are compiled for them (`compileCondition`).
 * For a given kind every field resolves, once, at compile time, to one of:
 * - `absent`: the Falco event has no such value (no `fd.sip` on an `execve`); like a field
 *   Falco cannot extract, every comparison on it is false;
 * - `const`: the same for every event of the kind (`evt.type`, `evt.dir`, `fd.typechar`);
 * - `atLeast`: a number Mamori knows only a bound of (the descriptor of a successful open is
 *   some `fd.num >= 0`): comparisons the bound decides fold, the others are unsupported;
 * - `get` / `any`: read from the event (`any`: several values, a comparison holds when it holds
 *   for one of them, as for `proc.aname` and `fd.ip`);
 * - `unsupported`: Falco has the value but Mamori's events do not carry it. A rule that still
 *   needs such a field after folding is skipped with the field named, never run half-blind.
 */

/** Payload kinds that are not syscalls: no Falco rule of the syscall source sees them. */
// `enforcement`: what a defender did, reported after the fact; Falco has no such event.
const NOT_SYSCALLS = [
  'dns_query',
  'http_request',
  'http_response',
  'scanner_finding',
  'enforcement',
] as const;
export type FalcoEventKind = Exclude<EventKind, (typeof NOT_SYSCALLS)[number]>;
/** The Mamori payload kinds that correspond to a Falco syscall event, in schema order. */
export const FALCO_EVENT_KINDS: readonly FalcoEventKind[] = EVENT_KINDS.filter(
  (kind): kind is FalcoEventKind => !(NOT_SYSCALLS as readonly string[]).includes(kind),
);

/** The kinds that are not syscalls but that rules in Falco's language may name: web requests. */
export const WEB_EVENT_KINDS = ['http_request'] as const;
export type WebEventKind = (typeof WEB_EVENT_KINDS)[number];
/** Every kind a condition in Falco's language is compiled for. */
export type RuleEventKind = FalcoEventKind | WebEventKind;
/** Falco's syscall kinds, then the web kinds, in schema order within each. */
export const RULE_EVENT_KINDS: readonly RuleEventKind[] = [
  ...FALCO_EVENT_KINDS,
  ...WEB_EVENT_KINDS,
];

/** True for a kind of {@link WEB_EVENT_KINDS}. */
export function isWebKind(kind: RuleEventKind): kind is WebEventKind {
  return kind === 'http_request';
}

/**
 * The Falco `evt.type` each kind is seen as. `file_write` is an open for writing (README). A kind
 * that stands for a family of calls is seen as one of them, so that `evt.type` stays a constant
 * of the kind: `linkat` for link and linkat, `symlinkat` for symlink and symlinkat,
 * `finit_module` for finit_module and init_module, `dup2` for dup, dup2 and dup3. A web request
 * is `http_request`, a name no Falco syscall has, so no `evt.type` of a Falco rule matches it.
 */
export const EVT_TYPE_OF_KIND: Readonly<Record<RuleEventKind, string>> = {
  process_exec: 'execve',
  process_exit: 'procexit',
  file_open: 'openat',
  file_write: 'openat',
  file_rename: 'renameat2',
  file_delete: 'unlinkat',
  network_connect: 'connect',
  network_accept: 'accept',
  network_listen: 'listen',
  file_link: 'linkat',
  file_symlink: 'symlinkat',
  kernel_module_load: 'finit_module',
  process_ptrace: 'ptrace',
  network_socket: 'socket',
  fd_dup: 'dup2',
  http_request: 'http_request',
};

const CATEGORY_OF_KIND: Readonly<Record<FalcoEventKind, string>> = {
  process_exec: 'process',
  process_exit: 'process',
  file_open: 'file',
  file_write: 'file',
  file_rename: 'file',
  file_delete: 'file',
  network_connect: 'net',
  network_accept: 'net',
  network_listen: 'net',
  file_link: 'file',
  file_symlink: 'file',
  kernel_module_load: 'other',
  process_ptrace: 'process',
  network_socket: 'net',
  fd_dup: 'io-other',
};

export type ValueType = 'string' | 'number' | 'bool' | 'ip' | 'net' | 'flags' | 'time';
export type Scalar = string | number | boolean;
export type Getter = (event: Event__Output) => Scalar | undefined;
/** What a {@link Scan} feeds a value's pieces to; a negative state means: stop. */
export interface TextSink {
  /** Feeds `text` from `state`; returns the state after it. */
  step(state: number, text: string): number;
  /**
   * Feeds `words[from…]` joined with single spaces (after a space when `spaceFirst`), as `join`
   * writes them (null and undefined as ''); returns the state after them.
   */
  words(state: number, words: readonly string[], from: number, spaceFirst: boolean): number;
}

/**
 * Feeds the pieces of a text value, in order, to `sink` (from `state`), stopping when a state is
 * negative; returns the last state, or undefined when the value is absent. The pieces joined are
 * the value exactly.
 */
export type Scan = (event: Event__Output, sink: TextSink, state: number) => number | undefined;
export type MultiGetter = (event: Event__Output) => readonly Scalar[] | undefined;

export type FieldAccess =
  | { readonly kind: 'absent' }
  | { readonly kind: 'unsupported'; readonly reason: string }
  | { readonly kind: 'const'; readonly type: ValueType; readonly value: Scalar }
  | { readonly kind: 'atLeast'; readonly min: number; readonly reason: string }
  | {
      readonly kind: 'get';
      readonly type: ValueType;
      readonly get: Getter;
      /** For text Falco joins (`proc.cmdline`): the value's pieces, without building it. */
      readonly scan?: Scan;
    }
  | {
      readonly kind: 'any';
      readonly type: ValueType;
      readonly get: MultiGetter;
      /** True when `pred` holds for one of the values; without building an array. */
      readonly some?: (event: Event__Output, pred: (v: Scalar) => boolean) => boolean;
      /** The single value shown in outputs. */
      readonly render: Getter;
    };

/** A name that is no Falco field at all (a typo, or a plugin's field). */
export interface UnknownField {
  readonly kind: 'unknown';
}

const ABSENT: FieldAccess = { kind: 'absent' };

// Field classes of Falco's syscall source. A name in one of them that Mamori does not map is a
// real Falco field Mamori cannot answer; a name outside them is unknown.
const FALCO_CLASSES = new Set([
  'evt',
  'proc',
  'thread',
  'user',
  'group',
  'fd',
  'fdlist',
  'fs',
  'container',
  'k8s',
  'k8smeta',
  'mesos',
  'span',
  'syslog',
]);

// Mamori's field classes of web requests: `http.*` (the request) and `waas.*` (the verdict).
const WEB_CLASSES = new Set(['http', 'waas']);

/** True for a field of Mamori's web classes (`http.*`, `waas.*`). */
export function isWebField(name: string): boolean {
  const dot = name.indexOf('.');
  return dot > 0 && WEB_CLASSES.has(name.slice(0, dot));
}

function unsupported(name: string, why?: string): FieldAccess {
  return {
    kind: 'unsupported',
    reason: why ?? `Mamori's events do not carry ${name}`,
  };
}

/** Memoizes a getter on the identity of the event: computed at most once per evaluation. */
function memo<T>(get: (event: Event__Output) => T): (event: Event__Output) => T {
  let last: Event__Output | undefined;
  let value: T;
  return (event) => {
    if (event !== last) {
      value = get(event);
      last = event;
    }
    return value;
  };
}

const nonEmpty = (s: string | undefined): string | undefined =>
  s === undefined || s === '' ? undefined : s;

type ProcessOf = (event: Event__Output) => Process__Output | undefined;

/**
 * The process of any syscall kind. One function for every kind (not one closure per kind), so
 * that the engine inlines it into every field getter.
 */
export function processOfEvent(e: Event__Output): Process__Output | undefined {
  switch (e.payload) {
    case 'process_exec':
      return e.process_exec?.process ?? undefined;
    case 'file_open':
      return e.file_open?.process ?? undefined;
    case 'network_connect':
      return e.network_connect?.process ?? undefined;
    case 'process_exit':
      return e.process_exit?.process ?? undefined;
    case 'file_write':
      return e.file_write?.process ?? undefined;
    case 'file_rename':
      return e.file_rename?.process ?? undefined;
    case 'file_delete':
      return e.file_delete?.process ?? undefined;
    case 'network_accept':
      return e.network_accept?.process ?? undefined;
    case 'network_listen':
      return e.network_listen?.process ?? undefined;
    case 'fd_dup':
      return e.fd_dup?.process ?? undefined;
    case 'file_link':
      return e.file_link?.process ?? undefined;
    case 'file_symlink':
      return e.file_symlink?.process ?? undefined;
    case 'kernel_module_load':
      return e.kernel_module_load?.process ?? undefined;
    case 'process_ptrace':
      return e.process_ptrace?.process ?? undefined;
    case 'network_socket':
      return e.network_socket?.process ?? undefined;
    default:
      return undefined;
  }
}

function processOf(_kind: FalcoEventKind): ProcessOf {
  return processOfEvent;
}

/** argv[0] as Falco's proc.exe, or the executable's path when the sensor sent no argv. */
function exeOf(p: { args: string[]; exe: string }): string | undefined {
  return nonEmpty(p.args[0]) ?? nonEmpty(p.exe);
}

/** Falco's command line: the process name followed by argv[1…]. */
function cmdlineOf(p: { name: string; args: string[] }): string | undefined {
  if (p.name === '') return undefined;
  // One string of the pieces, without an array for argv[1…] or a joined copy of it.
  const args = p.args;
  let s = p.name;
  for (let i = 1; i < args.length; i++) s += ` ${argText(args[i])}`;
  return s;
}

/** An argument as `join` writes it: a hand-built event's holes and nulls as ''. */
function argText(a: string | undefined): string {
  return a ?? '';
}

/** {@link cmdlineOf} as pieces, for a {@link Scan}. */
function scanCmdline(
  p: { name: string; args: string[] } | undefined,
  sink: TextSink,
  state: number,
): number | undefined {
  if (p === undefined || p.name === '') return undefined;
  const s = sink.step(state, p.name);
  return s < 0 ? s : sink.words(s, p.args, 1, true);
}

/**
 * The kernel's number of a controlling terminal, as Falco's proc.tty shows it (0: none), from
 * the name Mamori reports (`pts/3`, `/dev/tty1`). Names of other devices are not guessed.
 */
export function ttyNumber(tty: string): number | undefined {
  if (tty === '') return 0;
  const t = tty.startsWith('/dev/') ? tty.slice(5) : tty;
  let major: number;
  let minorText: string;
  if (t.startsWith('pts/')) {
    major = 136;
    minorText = t.slice(4);
  } else if (t.startsWith('ttyS')) {
    major = 4;
    minorText = t.slice(4);
  } else if (t.startsWith('tty')) {
    major = 4;
    minorText = t.slice(3);
  } else if (t === 'console') {
    return (5 << 8) | 1;
  } else {
    return undefined;
  }
  if (!/^[0-9]{1,7}$/.test(minorText)) return undefined;
  const minor = Number(minorText) + (t.startsWith('ttyS') ? 64 : 0);
  // new_encode_dev(): how /proc/<pid>/stat and Falco's driver encode a device number.
  return (minor & 0xff) | (major << 8) | ((minor & ~0xff) << 12);
}

/** Falco's fd.name of a file: absolute (against the cwd) with `.`, `..` and `//` resolved. */
export function resolvePath(path: string, cwd: string): string {
  let p = path;
  if (!p.startsWith('/')) {
    if (cwd === '') return p;
    p = `${cwd.endsWith('/') ? cwd : `${cwd}/`}${p}`;
  }
  // Most paths are already clean; normalize only when a segment needs it.
  return needsNormalizing(p) ? posix.normalize(p) : p;
}

/** True when `p` has `//`, `/./`, `/../`, or ends with `/.` or `/..`: two searches, not five. */
function needsNormalizing(p: string): boolean {
  if (p.includes('//')) return true;
  for (let i = p.indexOf('/.'); i >= 0; i = p.indexOf('/.', i + 2)) {
    const after = i + 2;
    if (after === p.length || p.charCodeAt(after) === 47) return true;
    if (p.charCodeAt(after) === 46 && (after + 1 === p.length || p.charCodeAt(after + 1) === 47)) {
      return true;
    }
  }
  return false;
}

function dirnameOf(path: string): string {
  const slash = path.lastIndexOf('/');
  if (slash < 0) return path;
  return slash === 0 ? '/' : path.slice(0, slash);
}

function basenameOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? path : path.slice(slash + 1);
}

// Linux x86-64/arm64 open(2) flag bits, named as Falco prints evt.arg.flags.
const OPEN_FLAGS: readonly (readonly [string, number])[] = [
  ['O_CREAT', 0o100],
  ['O_EXCL', 0o200],
  ['O_NOCTTY', 0o400],
  ['O_TRUNC', 0o1000],
  ['O_APPEND', 0o2000],
  ['O_NONBLOCK', 0o4000],
  ['O_DSYNC', 0o10000],
  ['O_ASYNC', 0o20000],
  ['O_DIRECT', 0o40000],
  ['O_LARGEFILE', 0o100000],
  ['O_DIRECTORY', 0o200000],
  ['O_NOFOLLOW', 0o400000],
  ['O_NOATIME', 0o1000000],
  ['O_CLOEXEC', 0o2000000],
  ['O_SYNC', 0o4010000],
  ['O_PATH', 0o10000000],
  ['O_TMPFILE', 0o20200000],
];
const ACCESS_MODES = ['O_RDONLY', 'O_WRONLY', 'O_RDWR'] as const;

/** open(2) flags as Falco writes them: `O_WRONLY|O_CREAT|O_TRUNC`. */
export function formatOpenFlags(flags: number): string {
  const names: string[] = [ACCESS_MODES[flags & 3] ?? 'O_RDWR'];
  for (const [name, bits] of OPEN_FLAGS) if ((flags & bits) === bits) names.push(name);
  return names.join('|');
}

/** True when `flags` has the flag named `name` set; undefined when `name` is no open flag. */
export function hasOpenFlag(flags: number, name: string): boolean | undefined {
  const mode = ACCESS_MODES.indexOf(name as (typeof ACCESS_MODES)[number]);
  if (mode >= 0) return (flags & 3) === mode;
  for (const [flag, bits] of OPEN_FLAGS) if (flag === name) return (flags & bits) === bits;
  return undefined;
}

/** `HH:MM:SS.nnnnnnnnn` (UTC), as Falco prints evt.time; Mamori's clock is in microseconds. */
export function formatEventTime(nanos: number): string {
  const micros = Math.round(nanos / 1000);
  const iso = new Date(Math.floor(micros / 1000)).toISOString();
  return `${iso.slice(11, 19)}.${String((micros % 1_000_000) * 1000).padStart(9, '0')}`;
}

interface Endpoints {
  client?: (e: Event__Output) => { ip: string; port: number } | undefined;
  server: (e: Event__Output) => { ip: string; port: number } | undefined;
}

function connectionOf(
  kind: FalcoEventKind,
): ((e: Event__Output) => Connection__Output | undefined) | undefined {
  switch (kind) {
    case 'network_connect':
      return (e) => e.network_connect?.connection ?? undefined;
    case 'network_accept':
      return (e) => e.network_accept?.connection ?? undefined;
    case 'network_listen':
      return (e) => e.network_listen?.connection ?? undefined;
    case 'fd_dup':
      return (e) => e.fd_dup?.connection ?? undefined;
    default:
      return undefined;
  }
}

const local = (c: Connection__Output | undefined) =>
  c === undefined || c.local_address === ''
    ? undefined
    : { ip: c.local_address, port: c.local_port };
const remote = (c: Connection__Output | undefined) =>
  c === undefined || c.remote_address === ''
    ? undefined
    : { ip: c.remote_address, port: c.remote_port };

/** Which side is client and which is server: the connecting side is the client. */
function endpointsOf(kind: FalcoEventKind): Endpoints | undefined {
  const conn = connectionOf(kind);
  if (conn === undefined) return undefined;
  if (kind === 'network_connect') {
    return { client: (e) => local(conn(e)), server: (e) => remote(conn(e)) };
  }
  if (kind === 'network_accept') {
    return { client: (e) => remote(conn(e)), server: (e) => local(conn(e)) };
  }
  if (kind === 'fd_dup') {
    // A duplicated socket was either accepted (local side serves) or connected (local side is
    // the client); the sensor says which.
    return {
      client: (e) => (e.fd_dup?.accepted === true ? remote(conn(e)) : local(conn(e))),
      server: (e) => (e.fd_dup?.accepted === true ? local(conn(e)) : remote(conn(e))),
    };
  }
  return { server: (e) => local(conn(e)) };
}

/** The path fields of file events, raw as the sensor reported them. */
function filePathOf(kind: FalcoEventKind): ((e: Event__Output) => string | undefined) | undefined {
  switch (kind) {
    case 'file_open':
      return (e) => nonEmpty(e.file_open?.path);
    case 'file_write':
      return (e) => nonEmpty(e.file_write?.path);
    case 'file_delete':
      return (e) => nonEmpty(e.file_delete?.path);
    default:
      return undefined;
  }
}

const FILE_FD_KINDS = new Set<FalcoEventKind>(['file_open', 'file_write']);
const NET_KINDS = new Set<FalcoEventKind>(['network_connect', 'network_accept', 'network_listen']);

/** Resolves fields for one rule set; getters are shared, so values are cached across rules. */
export interface FieldResolver {
  resolve(name: string, arg: string | undefined, kind: RuleEventKind): FieldAccess | UnknownField;
}

/** A resolver whose answers (and their per-event caches) are shared by all rules it compiles. */
export function createFieldResolver(): FieldResolver {
  const cache = new Map<string, FieldAccess | UnknownField>();
  return {
    resolve(name, arg, kind) {
      const key = `${kind}\u0000${name}\u0000${arg ?? '\u0001'}`;
      let access = cache.get(key);
      if (access === undefined) {
        access = resolveField(name, arg, kind);
        cache.set(key, access);
      }
      return access;
    },
  };
}

function get(type: ValueType, getter: Getter): FieldAccess {
  return { kind: 'get', type, get: getter };
}

/** Resolves one field for one kind of event (see the module comment). */
export function resolveField(
  name: string,
  arg: string | undefined,
  kind: RuleEventKind,
): FieldAccess | UnknownField {
  const dot = name.indexOf('.');
  const cls = dot < 0 ? name : name.slice(0, dot);
  if (WEB_CLASSES.has(cls)) {
    // Known or not whatever the kind, so that a misspelt name is an error on every kind.
    const access = webField(name, arg);
    if (access === undefined) return { kind: 'unknown' };
    // A syscall has no web request: like fd.sip on an execve, absent.
    return isWebKind(kind) || access.kind === 'unsupported' ? access : ABSENT;
  }
  if (!FALCO_CLASSES.has(cls)) return { kind: 'unknown' };
  if (isWebKind(kind)) {
    return (
      webSyscallField(name, arg, cls) ?? unsupported(arg === undefined ? name : `${name}[${arg}]`)
    );
  }
  const access =
    cls === 'evt'
      ? evtField(name, arg, kind)
      : cls === 'proc' || cls === 'thread' || cls === 'user' || cls === 'group'
        ? processField(name, arg, kind)
        : cls === 'fd'
          ? fdField(name, kind)
          : cls === 'fs'
            ? fsField(name, kind)
            : cls === 'container' || cls === 'k8s'
              ? workloadField(name, arg)
              : undefined;
  return access ?? unsupported(arg === undefined ? name : `${name}[${arg}]`);
}

// ---------------------------------------------------------------------------------- evt.*

// The parameters of the exit event of each syscall, in Falco's order (for evt.arg[N]), and
// which of them Mamori's payload carries.
type ArgSpec = readonly (readonly [string, (kind: FalcoEventKind) => FieldAccess | undefined])[];

function evtArgs(kind: FalcoEventKind): ArgSpec {
  const P = processOf(kind);
  const zero = (): FieldAccess => ({ kind: 'const', type: 'number', value: 0 });
  const fd = (): FieldAccess => ({
    kind: 'atLeast',
    min: 0,
    reason: 'Mamori reports successful calls but not the descriptor number',
  });
  const path = filePathOf(kind);
  switch (kind) {
    case 'process_exec':
      return [
        ['res', zero],
        [
          'exe',
          () =>
            get('string', (e) => {
              const p = P(e);
              return p && exeOf(p);
            }),
        ],
        ['args', () => processField('proc.args', undefined, kind)],
        ['tid', () => processField('proc.pid', undefined, kind)],
        ['pid', () => processField('proc.pid', undefined, kind)],
        ['ptid', () => processField('proc.ppid', undefined, kind)],
        ['cwd', () => processField('proc.cwd', undefined, kind)],
        ['fdlimit', () => undefined],
        ['pgft_maj', () => undefined],
        ['pgft_min', () => undefined],
        ['vm_size', () => undefined],
        ['vm_rss', () => undefined],
        ['vm_swap', () => undefined],
        ['comm', () => processField('proc.name', undefined, kind)],
        ['cgroups', () => undefined],
        ['env', () => undefined],
        ['tty', () => processField('proc.tty', undefined, kind)],
        ['vpgid', () => undefined],
        ['loginuid', () => processField('user.loginuid', undefined, kind)],
        ['flags', () => undefined],
        ['cap_inheritable', () => undefined],
        ['cap_permitted', () => undefined],
        ['cap_effective', () => undefined],
        ['exe_ino', () => undefined],
        ['exe_ino_ctime', () => undefined],
        ['exe_ino_mtime', () => undefined],
        ['uid', () => processField('user.uid', undefined, kind)],
        ['trusted_exepath', () => processField('proc.exepath', undefined, kind)],
        ['pgid', () => undefined],
        ['gid', () => processField('group.gid', undefined, kind)],
      ];
    case 'process_exit':
      return [
        ['status', () => undefined],
        ['ret', () => get('number', (e) => e.process_exit?.exit_code)],
        ['sig', () => get('number', (e) => e.process_exit?.signal)],
        ['core', () => undefined],
        ['reaper_tid', () => undefined],
      ];
    case 'file_open':
      return [
        ['fd', fd],
        ['dirfd', () => undefined],
        ['name', () => (path ? get('string', path) : undefined)],
        ['flags', () => get('flags', (e) => e.file_open?.flags)],
        ['mode', () => undefined],
        ['dev', () => undefined],
        ['ino', () => undefined],
      ];
    case 'file_write':
      // A write is seen as an open for writing whose flags are not known: `flags` is absent,
      // so `evt.arg.flags contains O_TRUNC` asks for evidence a file_write cannot give.
      return [
        ['fd', fd],
        ['dirfd', () => undefined],
        ['name', () => (path ? get('string', path) : undefined)],
        ['flags', () => ABSENT],
        ['mode', () => undefined],
        ['dev', () => undefined],
        ['ino', () => undefined],
      ];
    case 'file_rename':
      return [
        ['res', zero],
        ['olddirfd', () => undefined],
        ['oldpath', () => get('string', (e) => nonEmpty(e.file_rename?.old_path))],
        ['newdirfd', () => undefined],
        ['newpath', () => get('string', (e) => nonEmpty(e.file_rename?.new_path))],
        ['flags', () => undefined],
      ];
    case 'file_delete':
      return [
        ['res', zero],
        ['dirfd', () => undefined],
        ['name', () => (path ? get('string', path) : undefined)],
        ['flags', () => undefined],
      ];
    case 'network_connect':
      return [
        ['res', zero],
        ['tuple', () => fdField('fd.name', kind)],
        ['fd', fd],
      ];
    case 'network_accept':
      return [
        ['fd', fd],
        ['tuple', () => fdField('fd.name', kind)],
        ['queuepct', () => undefined],
        ['queuelen', () => undefined],
        ['queuemax', () => undefined],
      ];
    case 'network_listen':
      return [
        ['res', zero],
        ['fd', fd],
        ['backlog', () => undefined],
      ];
    case 'file_link':
      return [
        ['res', zero],
        ['olddir', () => undefined],
        ['oldpath', () => get('string', (e) => nonEmpty(e.file_link?.target))],
        ['newdir', () => undefined],
        ['newpath', () => get('string', (e) => nonEmpty(e.file_link?.link_path))],
        ['flags', () => undefined],
      ];
    case 'file_symlink':
      return [
        ['res', zero],
        ['target', () => get('string', (e) => nonEmpty(e.file_symlink?.target))],
        ['linkdirfd', () => undefined],
        ['linkpath', () => get('string', (e) => nonEmpty(e.file_symlink?.link_path))],
      ];
    case 'kernel_module_load':
      // finit_module's parameters; an init_module load (no file) has no descriptor.
      return [
        ['res', zero],
        [
          'fd',
          () => ({
            kind: 'atLeast',
            min: 0,
            reason: 'Mamori reports the module file but not its descriptor number',
          }),
        ],
        ['uargs', () => get('string', (e) => e.kernel_module_load?.parameters)],
        ['flags', () => undefined],
      ];
    case 'process_ptrace':
      // The exit event carries the call's parameters as well as its result.
      return [
        ['res', zero],
        ['addr', () => undefined],
        ['data', () => undefined],
        ['request', () => get('string', (e) => nonEmpty(e.process_ptrace?.request))],
        ['pid', () => get('number', (e) => e.process_ptrace?.target_pid)],
      ];
    case 'network_socket':
      return [
        ['fd', fd],
        ['domain', () => get('string', (e) => nonEmpty(e.network_socket?.domain))],
        ['type', () => get('number', (e) => e.network_socket?.type)],
        ['proto', () => get('number', (e) => e.network_socket?.protocol)],
      ];
    case 'fd_dup':
      return [
        ['res', () => get('number', (e) => e.fd_dup?.new_fd)],
        ['oldfd', () => get('number', (e) => e.fd_dup?.old_fd)],
        ['newfd', () => get('number', (e) => e.fd_dup?.new_fd)],
      ];
  }
}

function evtArg(argName: string, kind: FalcoEventKind, display: string): FieldAccess {
  const spec = evtArgs(kind);
  const index = /^[0-9]+$/.test(argName) ? Number(argName) : -1;
  const entry = index >= 0 ? spec[index] : spec.find(([n]) => n === argName);
  // A parameter the syscall does not have is absent, like Falco's extraction failing.
  if (entry === undefined) return ABSENT;
  return entry[1](kind) ?? unsupported(display, `Mamori's ${kind} events do not carry ${display}`);
}

function evtField(
  name: string,
  arg: string | undefined,
  kind: FalcoEventKind,
): FieldAccess | undefined {
  switch (name) {
    case 'evt.type':
      return { kind: 'const', type: 'string', value: EVT_TYPE_OF_KIND[kind] };
    case 'evt.dir':
      // Mamori reports completed calls: every event is an exit event.
      return { kind: 'const', type: 'string', value: '<' };
    case 'evt.category':
      return { kind: 'const', type: 'string', value: CATEGORY_OF_KIND[kind] };
    case 'evt.source':
      return { kind: 'const', type: 'string', value: 'syscall' };
    case 'evt.num':
      return {
        kind: 'atLeast',
        min: 1,
        reason: 'Mamori events have no sequence number (evt.num)',
      };
    case 'evt.time':
    case 'evt.rawtime':
    case 'evt.hostname':
      return envelopeField(name);
    case 'evt.res':
      return kind === 'process_exit' ? ABSENT : { kind: 'const', type: 'string', value: 'SUCCESS' };
    case 'evt.failed':
      return kind === 'process_exit' ? ABSENT : { kind: 'const', type: 'bool', value: false };
    case 'evt.rawres':
      if (kind === 'process_exit') return ABSENT;
      // dup2 returns the descriptor it duplicated onto.
      if (kind === 'fd_dup') return get('number', (e) => e.fd_dup?.new_fd);
      if (
        kind === 'file_open' ||
        kind === 'file_write' ||
        kind === 'network_accept' ||
        kind === 'network_socket'
      ) {
        return {
          kind: 'atLeast',
          min: 0,
          reason: `Mamori reports successful ${EVT_TYPE_OF_KIND[kind]} calls but not the descriptor they returned`,
        };
      }
      return { kind: 'const', type: 'number', value: 0 };
    case 'evt.is_open_read':
    case 'evt.is_open_write': {
      const write = name === 'evt.is_open_write';
      if (kind === 'file_write') return { kind: 'const', type: 'bool', value: write };
      if (kind !== 'file_open') return ABSENT;
      return get('bool', (e) => {
        const o = e.file_open;
        if (!o) return undefined;
        const mode = o.flags & 3;
        // `write` stands in for flags a sensor did not report (flags 0 with write set).
        return write ? o.write || mode !== 0 : mode === 2 || (mode === 0 && !o.write);
      });
    }
    case 'evt.is_open_exec':
      return kind === 'file_open' || kind === 'file_write'
        ? unsupported(name, 'Mamori does not report the mode a file was created with')
        : ABSENT;
    case 'evt.arg':
    case 'evt.rawarg':
      return arg === undefined ? undefined : evtArg(arg, kind, `${name}[${arg}]`);
    default:
      if (name.startsWith('evt.arg.') || name.startsWith('evt.rawarg.')) {
        const argName = name.slice(name.indexOf('arg.') + 4);
        const access = evtArg(argName, kind, name);
        // Falco's raw flags use its own bit encoding, which is not Linux's.
        if (name.startsWith('evt.rawarg.') && access.kind === 'get' && access.type === 'flags') {
          return unsupported(name, `${name} is in Falco's own flag encoding; use evt.arg.flags`);
        }
        return access;
      }
      return undefined;
  }
}

/** The evt.* fields every event has from its envelope: when and on which host it was seen. */
function envelopeField(name: 'evt.time' | 'evt.rawtime' | 'evt.hostname'): FieldAccess {
  switch (name) {
    case 'evt.time':
      return get('time', (e) =>
        e.observed_unix_micros > 0 ? e.observed_unix_micros * 1000 : undefined,
      );
    case 'evt.rawtime':
      return get('number', (e) =>
        e.observed_unix_micros > 0 ? e.observed_unix_micros * 1000 : undefined,
      );
    case 'evt.hostname':
      return get('string', (e) => nonEmpty(e.host?.hostname));
  }
}

// ------------------------------------------------------------------- proc.*, user.*, group.*

function ancestorIndex(arg: string | undefined): number | undefined {
  if (arg === undefined) return undefined;
  return /^[0-9]{1,4}$/.test(arg) ? Number(arg) : -1;
}

function processField(
  name: string,
  arg: string | undefined,
  kind: FalcoEventKind,
): FieldAccess | undefined {
  const P = processOf(kind);
  const parent = (e: Event__Output) => P(e)?.ancestors[0];
  switch (name) {
    case 'proc.name':
      return get('string', (e) => nonEmpty(P(e)?.name));
    case 'proc.exe':
      return get('string', (e) => {
        const p = P(e);
        return p && exeOf(p);
      });
    case 'proc.exepath':
      return get('string', (e) => nonEmpty(P(e)?.exe));
    case 'proc.cmdline':
      return {
        kind: 'get',
        type: 'string',
        get: memo((e) => {
          const p = P(e);
          return p && cmdlineOf(p);
        }),
        scan: (e, sink, state) => scanCmdline(P(e), sink, state),
      };
    case 'proc.args':
      return {
        kind: 'get',
        type: 'string',
        get: memo((e) => {
          const p = P(e);
          return p === undefined || p.args.length === 0 ? undefined : p.args.slice(1).join(' ');
        }),
        scan: (e, sink, state) => {
          const p = P(e);
          if (p === undefined || p.args.length === 0) return undefined;
          return sink.words(state, p.args, 1, false);
        },
      };
    case 'proc.pid':
    case 'thread.tid':
      return get('number', (e) => P(e)?.pid || undefined);
    case 'proc.ppid':
      return get('number', (e) => {
        const p = P(e);
        return p === undefined ? undefined : p.ppid || p.ancestors[0]?.pid || undefined;
      });
    case 'proc.pname':
      return get('string', (e) => nonEmpty(parent(e)?.name));
    case 'proc.pexe':
      return get('string', (e) => {
        const a = parent(e);
        return a && exeOf(a);
      });
    case 'proc.pexepath':
      return get('string', (e) => nonEmpty(parent(e)?.exe));
    case 'proc.pcmdline':
      return {
        kind: 'get',
        type: 'string',
        get: memo((e) => {
          const a = parent(e);
          return a && cmdlineOf(a);
        }),
        scan: (e, sink, state) => scanCmdline(parent(e), sink, state),
      };
    case 'proc.aname':
    case 'proc.apid':
    case 'proc.aexe':
    case 'proc.aexepath':
    case 'proc.acmdline':
      return ancestorField(name, arg, P);
    case 'proc.cwd':
      // Falco keeps the working directory with a trailing slash (`/dev/shm/`).
      return get(
        'string',
        memo((e) => {
          const cwd = P(e)?.cwd;
          if (cwd === undefined || cwd === '') return undefined;
          return cwd.endsWith('/') ? cwd : `${cwd}/`;
        }),
      );
    case 'proc.tty':
      return get('number', (e) => {
        const p = P(e);
        return p === undefined ? undefined : ttyNumber(p.tty);
      });
    case 'proc.duration':
      return get('number', (e) => {
        const start = P(e)?.start_unix_micros ?? 0;
        if (start <= 0 || e.observed_unix_micros <= 0) return undefined;
        return (e.observed_unix_micros - start) * 1000;
      });
    case 'proc.is_exe_from_memfd':
      // The kernel shows a memfd executable as `/memfd:<name> (deleted)`.
      return get('bool', (e) => {
        const exe = P(e)?.exe;
        if (exe === undefined || exe === '') return undefined;
        return exe.startsWith('memfd:') || exe.startsWith('/memfd:');
      });
    case 'proc.is_exe_upper_layer':
      return get('bool', (e) => P(e)?.exe_upper_layer);
    case 'proc.stdin.type':
      return get('string', (e) => nonEmpty(P(e)?.stdin_type));
    case 'proc.stdout.type':
      return get('string', (e) => nonEmpty(P(e)?.stdout_type));
    case 'proc.stderr.type':
      return get('string', (e) => nonEmpty(P(e)?.stderr_type));
    case 'thread.cap_effective':
      return get(
        'string',
        memo((e) => {
          const caps = P(e)?.cap_effective;
          return caps === undefined || caps === null ? undefined : formatCapabilities(caps);
        }),
      );
    case 'user.name':
      return get('string', (e) => nonEmpty(P(e)?.user));
    case 'user.uid':
      return get('number', (e) => P(e)?.uid);
    case 'user.loginuid':
      return get('number', (e) => P(e)?.login_uid);
    case 'group.gid':
      return get('number', (e) => P(e)?.gid);
    default:
      return undefined;
  }
}

type AncestorLike = { pid: number; name: string; exe: string; args: string[] };

type AncestorValue = (a: AncestorLike) => Scalar | undefined;

function ancestorExtractor(name: string): AncestorValue {
  switch (name) {
    case 'proc.aname':
      return (a) => nonEmpty(a.name);
    case 'proc.apid':
      return (a) => a.pid || undefined;
    case 'proc.aexe':
      return exeOf;
    case 'proc.aexepath':
      return (a) => nonEmpty(a.exe);
    default:
      return cmdlineOf;
  }
}

/** `proc.aname[N]` (0: the process itself, 1: its parent, …) or, without N, any ancestor. */
function ancestorField(name: string, arg: string | undefined, P: ProcessOf): FieldAccess {
  const type: ValueType = name === 'proc.apid' ? 'number' : 'string';
  const ancestorValue = ancestorExtractor(name);
  const index = ancestorIndex(arg);
  if (index === -1)
    return unsupported(`${name}[${arg}]`, `${name}[${arg}]: the index must be a number`);
  if (index === 0) {
    return get(type, (e) => {
      const p = P(e);
      return p && ancestorValue(p);
    });
  }
  if (index !== undefined) {
    return get(type, (e) => {
      const a = P(e)?.ancestors[index - 1];
      return a && ancestorValue(a);
    });
  }
  return {
    kind: 'any',
    type,
    get: memo((e) => {
      const p = P(e);
      if (p === undefined) return undefined;
      const values: Scalar[] = [];
      for (const a of p.ancestors) {
        const v = ancestorValue(a);
        if (v !== undefined) values.push(v);
      }
      return values;
    }),
    some: (e, pred) => {
      const ancestors = P(e)?.ancestors;
      if (ancestors === undefined) return false;
      for (let i = 0; i < ancestors.length; i++) {
        const v = ancestorValue(ancestors[i] as AncestorLike);
        if (v !== undefined && pred(v)) return true;
      }
      return false;
    },
    render: (e) => {
      const a = P(e)?.ancestors[0];
      return a && ancestorValue(a);
    },
  };
}

// Linux capability numbers (include/uapi/linux/capability.h), named as Falco prints them.
const CAPABILITIES = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_DAC_READ_SEARCH',
  'CAP_FOWNER',
  'CAP_FSETID',
  'CAP_KILL',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETPCAP',
  'CAP_LINUX_IMMUTABLE',
  'CAP_NET_BIND_SERVICE',
  'CAP_NET_BROADCAST',
  'CAP_NET_ADMIN',
  'CAP_NET_RAW',
  'CAP_IPC_LOCK',
  'CAP_IPC_OWNER',
  'CAP_SYS_MODULE',
  'CAP_SYS_RAWIO',
  'CAP_SYS_CHROOT',
  'CAP_SYS_PTRACE',
  'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN',
  'CAP_SYS_BOOT',
  'CAP_SYS_NICE',
  'CAP_SYS_RESOURCE',
  'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG',
  'CAP_MKNOD',
  'CAP_LEASE',
  'CAP_AUDIT_WRITE',
  'CAP_AUDIT_CONTROL',
  'CAP_SETFCAP',
  'CAP_MAC_OVERRIDE',
  'CAP_MAC_ADMIN',
  'CAP_SYSLOG',
  'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND',
  'CAP_AUDIT_READ',
  'CAP_PERFMON',
  'CAP_BPF',
  'CAP_CHECKPOINT_RESTORE',
] as const;

/**
 * A capability set as Falco's thread.cap_* show it: the names of the bits set, in bit order,
 * separated by spaces (`CAP_CHOWN CAP_SYS_ADMIN`); empty for no capabilities.
 */
export function formatCapabilities(bits: number): string {
  const names: string[] = [];
  // Above 2^31, so no 32-bit bitwise operators; capability sets stay below 2^53.
  let rest = bits;
  for (let n = 0; rest > 0 && n < 64; n++) {
    if (rest % 2 === 1) names.push(CAPABILITIES[n] ?? `CAP_${n}`);
    rest = Math.floor(rest / 2);
  }
  return names.join(' ');
}

// ------------------------------------------------------------------------------------ fd.*

function fdField(name: string, kind: FalcoEventKind): FieldAccess | undefined {
  if (FILE_FD_KINDS.has(kind)) return fileFdField(name, kind);
  if (NET_KINDS.has(kind)) return netFdField(name, kind);
  if (kind === 'fd_dup') return dupFdField(name);
  if (kind === 'network_socket') return socketFdField(name);
  // renameat2, unlinkat, linkat, symlinkat, execve, procexit and ptrace have no file
  // descriptor; Mamori does not report the one finit_module reads (its path is a payload field).
  return ABSENT;
}

// Falco's one-character fd.typechar of each fd.type.
const TYPECHAR_OF_FD_TYPE: Readonly<Record<string, string>> = {
  file: 'f',
  directory: 'd',
  ipv4: '4',
  ipv6: '6',
  unix: 'u',
  pipe: 'p',
  event: 'e',
  signalfd: 's',
  eventpoll: 'l',
  inotify: 'i',
  timerfd: 't',
  netlink: 'n',
  memfd: 'm',
};

const fdTypeChar = (type: string | undefined): string | undefined =>
  type === undefined ? undefined : TYPECHAR_OF_FD_TYPE[type];

/** The duplicated descriptor of a dup2: a file, a socket or anything else the sensor named. */
function dupFdField(name: string): FieldAccess | undefined {
  const type = (e: Event__Output) => nonEmpty(e.fd_dup?.fd_type);
  const isIp = (e: Event__Output) => {
    const t = type(e);
    return t === 'ipv4' || t === 'ipv6';
  };
  const path = (e: Event__Output) => (isIp(e) ? undefined : nonEmpty(e.fd_dup?.fd_name));
  switch (name) {
    case 'fd.type':
      return get('string', type);
    case 'fd.typechar':
      return get('string', (e) => fdTypeChar(type(e)));
    case 'fd.num':
      return get('number', (e) => e.fd_dup?.old_fd);
    case 'fd.name': {
      const tuple = netFdField('fd.name', 'fd_dup');
      const tupleOf = tuple?.kind === 'get' ? tuple.get : () => undefined;
      return get('string', (e) => (isIp(e) ? tupleOf(e) : path(e)));
    }
    case 'fd.nameraw':
      return get('string', path);
    case 'fd.directory':
      return get('string', (e) => {
        const p = path(e);
        return p === undefined || type(e) !== 'file' ? undefined : dirnameOf(p);
      });
    case 'fd.filename':
      return get('string', (e) => {
        const p = path(e);
        return p === undefined || type(e) !== 'file' ? undefined : basenameOf(p);
      });
    case 'fd.sockfamily':
      return get('string', (e) => {
        const t = type(e);
        return t === 'ipv4' || t === 'ipv6' ? 'ip' : t === 'unix' ? 'unix' : undefined;
      });
    case 'fd.is_server':
      return get('bool', (e) => (isIp(e) ? e.fd_dup?.accepted : undefined));
    case 'fd.sip.name':
    case 'fd.cip.name':
    case 'fd.lip.name':
    case 'fd.rip.name':
      return undefined;
    default:
      // Addresses and ports come from the connection, which only ip sockets have.
      return netFdField(name, 'fd_dup');
  }
}

/** Falco's fd.type of a new socket, from its address family. */
const FD_TYPE_OF_DOMAIN: Readonly<Record<string, string>> = {
  AF_INET: 'ipv4',
  AF_INET6: 'ipv6',
  AF_UNIX: 'unix',
  AF_LOCAL: 'unix',
  AF_NETLINK: 'netlink',
};

/** The descriptor a socket call returned: no address yet, only its family and type. */
function socketFdField(name: string): FieldAccess | undefined {
  const type = (e: Event__Output) => FD_TYPE_OF_DOMAIN[e.network_socket?.domain ?? ''];
  switch (name) {
    case 'fd.type':
      return get('string', type);
    case 'fd.typechar':
      return get('string', (e) => fdTypeChar(type(e)));
    case 'fd.num':
      return {
        kind: 'atLeast',
        min: 0,
        reason: 'Mamori reports sockets but not their descriptor number',
      };
    case 'fd.sockfamily':
      return get('string', (e) => {
        const t = type(e);
        return t === 'ipv4' || t === 'ipv6' ? 'ip' : t === 'unix' ? 'unix' : undefined;
      });
    case 'fd.l4proto':
      // As Falco sets it on a new ip socket: from the socket type (the low 4 bits).
      return get('string', (e) => {
        const s = e.network_socket;
        const t = type(e);
        if (s === undefined || s === null || (t !== 'ipv4' && t !== 'ipv6')) return undefined;
        const sockType = s.type & 0xf;
        return sockType === 1 ? 'tcp' : sockType === 2 ? 'udp' : sockType === 3 ? 'raw' : undefined;
      });
    case 'fd.name':
    case 'fd.nameraw':
    case 'fd.directory':
    case 'fd.filename':
    case 'fd.is_server':
    case 'fd.ip':
    case 'fd.cip':
    case 'fd.sip':
    case 'fd.lip':
    case 'fd.rip':
    case 'fd.port':
    case 'fd.cport':
    case 'fd.sport':
    case 'fd.lport':
    case 'fd.rport':
    case 'fd.net':
    case 'fd.cnet':
    case 'fd.snet':
    case 'fd.lnet':
    case 'fd.rnet':
    case 'fd.sip.name':
    case 'fd.cip.name':
    case 'fd.lip.name':
    case 'fd.rip.name':
      // A socket that was just created is bound to nothing and connected to nothing.
      return ABSENT;
    default:
      return undefined;
  }
}

const resolvedPaths = new Map<FalcoEventKind, (e: Event__Output) => string | undefined>();

/** fd.name of file events: one memoized getter per kind, shared by fd.name, fd.directory, … */
function resolvedPathOf(
  kind: FalcoEventKind,
  path: (e: Event__Output) => string | undefined,
): (e: Event__Output) => string | undefined {
  let getter = resolvedPaths.get(kind);
  if (getter === undefined) {
    getter = memo((e: Event__Output) => {
      const raw = path(e);
      return raw === undefined ? undefined : resolvePath(raw, processOfEvent(e)?.cwd ?? '');
    });
    resolvedPaths.set(kind, getter);
  }
  return getter;
}

function fileFdField(name: string, kind: FalcoEventKind): FieldAccess | undefined {
  const path = filePathOf(kind);
  if (path === undefined) return ABSENT;
  const resolved = resolvedPathOf(kind, path);
  switch (name) {
    case 'fd.name':
      return get('string', resolved);
    case 'fd.nameraw':
      return get('string', path);
    case 'fd.directory':
      return get(
        'string',
        memo((e) => {
          const p = resolved(e);
          return p && dirnameOf(p);
        }),
      );
    case 'fd.filename':
      return get(
        'string',
        memo((e) => {
          const p = resolved(e);
          return p && basenameOf(p);
        }),
      );
    case 'fd.typechar':
      return { kind: 'const', type: 'string', value: 'f' };
    case 'fd.type':
      return { kind: 'const', type: 'string', value: 'file' };
    case 'fd.num':
      return {
        kind: 'atLeast',
        min: 0,
        reason: 'Mamori reports files that were opened but not the descriptor number',
      };
    case 'fd.sockfamily':
    case 'fd.l4proto':
    case 'fd.ip':
    case 'fd.cip':
    case 'fd.sip':
    case 'fd.lip':
    case 'fd.rip':
    case 'fd.port':
    case 'fd.cport':
    case 'fd.sport':
    case 'fd.lport':
    case 'fd.rport':
    case 'fd.net':
    case 'fd.cnet':
    case 'fd.snet':
    case 'fd.lnet':
    case 'fd.rnet':
    case 'fd.is_server':
    case 'fd.sip.name':
    case 'fd.cip.name':
    case 'fd.lip.name':
    case 'fd.rip.name':
      return ABSENT;
    default:
      return undefined;
  }
}

function netFdField(name: string, kind: FalcoEventKind): FieldAccess | undefined {
  const ends = endpointsOf(kind);
  const conn = connectionOf(kind);
  if (ends === undefined || conn === undefined) return ABSENT;
  const { client, server } = ends;
  const localEnd = (e: Event__Output) => local(conn(e));
  const remoteEnd = kind === 'network_listen' ? undefined : (e: Event__Output) => remote(conn(e));
  const ip = (end: typeof client): FieldAccess =>
    end === undefined ? ABSENT : get('ip', (e) => end(e)?.ip);
  const net = (end: typeof client): FieldAccess =>
    end === undefined ? ABSENT : get('net', (e) => end(e)?.ip);
  const port = (end: typeof client): FieldAccess =>
    end === undefined ? ABSENT : get('number', (e) => end(e)?.port);
  const both = (
    type: ValueType,
    pick: (x: { ip: string; port: number }) => Scalar,
  ): FieldAccess => ({
    kind: 'any',
    type,
    get: (e) => {
      const c = client?.(e);
      const s = server(e);
      if (c === undefined) return s === undefined ? undefined : [pick(s)];
      return s === undefined ? [pick(c)] : [pick(c), pick(s)];
    },
    render: (e) => {
      const s = server(e) ?? client?.(e);
      return s && pick(s);
    },
  });
  const family = (e: Event__Output) => {
    const a = localEnd(e)?.ip ?? remoteEnd?.(e)?.ip;
    return a === undefined ? undefined : a.includes(':') && !a.startsWith('::ffff:') ? 6 : 4;
  };
  switch (name) {
    case 'fd.name':
      return get(
        'string',
        memo((e) => {
          const s = server(e);
          if (s === undefined) return undefined;
          const c = client?.(e);
          return c === undefined ? `${s.ip}:${s.port}` : `${c.ip}:${c.port}->${s.ip}:${s.port}`;
        }),
      );
    case 'fd.typechar':
      // Constants per family, not a string made per call.
      return get('string', (e) => {
        const f = family(e);
        return f === undefined ? undefined : f === 4 ? '4' : '6';
      });
    case 'fd.type':
      return get('string', (e) => {
        const f = family(e);
        return f === undefined ? undefined : f === 4 ? 'ipv4' : 'ipv6';
      });
    case 'fd.sockfamily':
      return { kind: 'const', type: 'string', value: 'ip' };
    case 'fd.l4proto':
      return get('string', (e) => {
        const p = conn(e)?.protocol;
        return p === 'L4_PROTOCOL_TCP' ? 'tcp' : p === 'L4_PROTOCOL_UDP' ? 'udp' : undefined;
      });
    case 'fd.num':
      return {
        kind: 'atLeast',
        min: 0,
        reason: 'Mamori reports sockets but not their descriptor number',
      };
    case 'fd.is_server':
      return { kind: 'const', type: 'bool', value: kind !== 'network_connect' };
    case 'fd.cip':
      return ip(client);
    case 'fd.sip':
      return ip(server);
    case 'fd.lip':
      return ip(localEnd);
    case 'fd.rip':
      return ip(remoteEnd);
    case 'fd.cport':
      return port(client);
    case 'fd.sport':
      return port(server);
    case 'fd.lport':
      return port(localEnd);
    case 'fd.rport':
      return port(remoteEnd);
    case 'fd.cnet':
      return net(client);
    case 'fd.snet':
      return net(server);
    case 'fd.lnet':
      return net(localEnd);
    case 'fd.rnet':
      return net(remoteEnd);
    case 'fd.ip':
      return both('ip', (x) => x.ip);
    case 'fd.port':
      return both('number', (x) => x.port);
    case 'fd.net':
      return both('net', (x) => x.ip);
    case 'fd.directory':
    case 'fd.filename':
    case 'fd.nameraw':
      return ABSENT;
    default:
      return undefined;
  }
}

// ------------------------------------------------------------------------------------ fs.*

function fsField(name: string, kind: FalcoEventKind): FieldAccess | undefined {
  const P = processOf(kind);
  const resolved = (raw: (e: Event__Output) => string | undefined): Getter =>
    memo((e) => {
      const r = raw(e);
      return r === undefined ? undefined : resolvePath(r, P(e)?.cwd ?? '');
    });
  const path = filePathOf(kind);
  // Source and target as Falco names them for calls with two paths: a rename's old and new
  // name, a link's existing file (or a symlink's content) and the new link.
  const twoPaths = sourceAndTarget(kind);
  switch (name) {
    case 'fs.path.name':
      return path === undefined ? ABSENT : get('string', resolved(path));
    case 'fs.path.nameraw':
      return path === undefined ? ABSENT : get('string', path);
    case 'fs.path.source':
      if (twoPaths === undefined) return ABSENT;
      // A symlink's content is not a path relative to the working directory: kept as written.
      return get('string', kind === 'file_symlink' ? twoPaths.source : resolved(twoPaths.source));
    case 'fs.path.sourceraw':
      return twoPaths === undefined ? ABSENT : get('string', twoPaths.source);
    case 'fs.path.target':
      return twoPaths === undefined ? ABSENT : get('string', resolved(twoPaths.target));
    case 'fs.path.targetraw':
      return twoPaths === undefined ? ABSENT : get('string', twoPaths.target);
    default:
      return undefined;
  }
}

type PathOf = (e: Event__Output) => string | undefined;

function sourceAndTarget(kind: FalcoEventKind): { source: PathOf; target: PathOf } | undefined {
  switch (kind) {
    case 'file_rename':
      return {
        source: (e) => nonEmpty(e.file_rename?.old_path),
        target: (e) => nonEmpty(e.file_rename?.new_path),
      };
    case 'file_link':
      return {
        source: (e) => nonEmpty(e.file_link?.target),
        target: (e) => nonEmpty(e.file_link?.link_path),
      };
    case 'file_symlink':
      return {
        source: (e) => nonEmpty(e.file_symlink?.target),
        target: (e) => nonEmpty(e.file_symlink?.link_path),
      };
    default:
      return undefined;
  }
}

// ------------------------------------------------------------------- container.*, k8s.*

const inContainer = (e: Event__Output) => {
  const w = e.workload;
  return w !== null && w.container_id !== '' ? w : undefined;
};

// The 12-character id is cut once per event, not once per rule that asks.
const containerShortId = memo((e: Event__Output): string => {
  const id = inContainer(e)?.container_id;
  return id === undefined ? 'host' : id.slice(0, 12);
});

function workloadField(name: string, arg: string | undefined): FieldAccess | undefined {
  switch (name) {
    case 'container.id':
      // Falco shows the 12-character short id, and `host` for processes outside containers.
      return get('string', containerShortId);
    case 'container.full_id':
      return get('string', (e) => inContainer(e)?.container_id ?? 'host');
    case 'container.name':
      return get('string', (e) => {
        const w = inContainer(e);
        return w === undefined ? 'host' : nonEmpty(w.container_name);
      });
    case 'container.type':
      return get('string', (e) => {
        const w = inContainer(e);
        return w === undefined ? 'host' : nonEmpty(w.runtime);
      });
    case 'container.image':
      return get('string', (e) => {
        const w = inContainer(e);
        if (w === undefined || w.image_repository === '') return undefined;
        return w.image_tag === '' ? w.image_repository : `${w.image_repository}:${w.image_tag}`;
      });
    case 'container.image.repository':
      return get('string', (e) => nonEmpty(inContainer(e)?.image_repository));
    case 'container.image.tag':
      return get('string', (e) => nonEmpty(inContainer(e)?.image_tag));
    case 'container.image.digest':
      return get('string', (e) => nonEmpty(inContainer(e)?.image_digest));
    case 'container.privileged':
      return get('bool', (e) => inContainer(e)?.privileged);
    case 'k8s.ns.name':
      return get('string', (e) => nonEmpty(e.workload?.namespace));
    case 'k8s.pod.name':
      return get('string', (e) => nonEmpty(e.workload?.pod_name));
    case 'k8s.pod.uid':
    case 'k8s.pod.id':
      return get('string', (e) => nonEmpty(e.workload?.pod_uid));
    case 'k8s.pod.label':
      if (arg === undefined) return undefined;
      return get('string', (e) => e.workload?.pod_labels[arg]);
    case 'k8s.pod.labels':
      return {
        kind: 'any',
        type: 'string',
        get: memo((e) => {
          const labels = e.workload?.pod_labels;
          return labels === undefined
            ? undefined
            : Object.entries(labels).map(([k, v]) => `${k}:${v}`);
        }),
        render: (e) => {
          const labels = e.workload?.pod_labels;
          if (labels === undefined) return undefined;
          const all = Object.entries(labels).map(([k, v]) => `${k}:${v}`);
          return all.length === 0 ? undefined : `(${all.join(',')})`;
        },
      };
    default:
      // The legacy spelling k8s.pod.label.KEY.
      if (name.startsWith('k8s.pod.label.') && arg === undefined) {
        const key = name.slice('k8s.pod.label.'.length);
        return get('string', (e) => e.workload?.pod_labels[key]);
      }
      return undefined;
  }
}

// ------------------------------------------------------------------------- http.*, waas.*

/**
 * Falco's syscall fields on a web request: it has a time, a host and a workload (the application
 * the request was for), and no process, descriptor or system call, whose fields are absent.
 */
function webSyscallField(
  name: string,
  arg: string | undefined,
  cls: string,
): FieldAccess | undefined {
  switch (cls) {
    case 'evt':
      switch (name) {
        case 'evt.type':
          return { kind: 'const', type: 'string', value: EVT_TYPE_OF_KIND.http_request };
        case 'evt.time':
        case 'evt.rawtime':
        case 'evt.hostname':
          return envelopeField(name);
        default:
          return ABSENT;
      }
    case 'container':
    case 'k8s':
      return workloadField(name, arg);
    case 'proc':
    case 'thread':
    case 'user':
    case 'group':
    case 'fd':
    case 'fdlist':
    case 'fs':
      return ABSENT;
    default:
      return undefined;
  }
}

type Request = NonNullable<Event__Output['http_request']>;

const requestOf = (e: Event__Output): Request | undefined => e.http_request ?? undefined;

/** The request's path: its URL up to the query (raw, not decoded, as the sensor received it). */
const pathOf = memo((e: Event__Output): string | undefined => {
  const url = nonEmpty(requestOf(e)?.url);
  if (url === undefined) return undefined;
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
});

/** The request's query: its URL after the first `?`, '' when it has none. */
const queryOf = memo((e: Event__Output): string | undefined => {
  const url = nonEmpty(requestOf(e)?.url);
  if (url === undefined) return undefined;
  const q = url.indexOf('?');
  return q < 0 ? '' : url.slice(q + 1);
});

/** True when header name `name` is `lower` (lower case) up to case; no copy when it already is. */
function sameHeaderName(name: string, lower: string): boolean {
  return name.length === lower.length && (name === lower || name.toLowerCase() === lower);
}

/** The first value of the header `lower` (lower case), case-insensitively. */
function firstHeader(e: Event__Output, lower: string): string | undefined {
  const headers = requestOf(e)?.headers;
  if (headers === undefined) return undefined;
  for (let i = 0; i < headers.length; i++) {
    const h = headers[i]!;
    if (sameHeaderName(h.name, lower)) return h.value;
  }
  return undefined;
}

/** `http.header[NAME]`: every value of the header, case-insensitively by name. */
function headerField(arg: string): FieldAccess {
  const lower = arg.trim().toLowerCase();
  return {
    kind: 'any',
    type: 'string',
    get: memo((e) => {
      const headers = requestOf(e)?.headers;
      if (headers === undefined) return undefined;
      const values: string[] = [];
      for (const h of headers) if (sameHeaderName(h.name, lower)) values.push(h.value);
      return values;
    }),
    some: (e, pred) => {
      const headers = requestOf(e)?.headers;
      if (headers === undefined) return false;
      for (let i = 0; i < headers.length; i++) {
        const h = headers[i]!;
        if (sameHeaderName(h.name, lower) && pred(h.value)) return true;
      }
      return false;
    },
    render: (e) => firstHeader(e, lower),
  };
}

/** A label of the WAAS verdict (`waas.action`, …); absent when empty or not set. */
const labelOf =
  (key: string): Getter =>
  (e) =>
    nonEmpty(e.labels[key]);

/** A label that is a flag: true exactly when it is `true`. */
const flagOf =
  (key: string): Getter =>
  (e) =>
    e.labels[key] === 'true';

/**
 * A label that lists comma-separated values (`sqli,xss`): one value each, as Falco's fields of
 * several values; shown as written.
 */
function listLabel(key: string): FieldAccess {
  const values = memo((e: Event__Output): readonly string[] | undefined => {
    const text = nonEmpty(e.labels[key]);
    if (text === undefined) return undefined;
    const out: string[] = [];
    for (const part of text.split(',')) {
      const v = part.trim();
      if (v !== '') out.push(v);
    }
    return out;
  });
  return {
    kind: 'any',
    type: 'string',
    get: values,
    some: (e, pred) => {
      const vs = values(e);
      if (vs === undefined) return false;
      for (let i = 0; i < vs.length; i++) if (pred(vs[i]!)) return true;
      return false;
    },
    render: labelOf(key),
  };
}

/**
 * Mamori's fields of a web request (`http.*`) and of the WAAS verdict on it (`waas.*`, from the
 * labels the defender attaches), or undefined for a name that is none of them. The same answer
 * for every kind: `resolveField` makes them absent on syscalls.
 */
function webField(name: string, arg: string | undefined): FieldAccess | undefined {
  switch (name) {
    case 'http.method':
      return get('string', (e) => nonEmpty(requestOf(e)?.method));
    case 'http.url':
      return get('string', (e) => nonEmpty(requestOf(e)?.url));
    case 'http.path':
      return get('string', pathOf);
    case 'http.query':
      return get('string', queryOf);
    case 'http.host':
      return get('string', (e) => nonEmpty(requestOf(e)?.server_name));
    case 'http.client_ip':
      return get('ip', (e) => nonEmpty(requestOf(e)?.client_address));
    case 'http.client_net':
      return get('net', (e) => nonEmpty(requestOf(e)?.client_address));
    case 'http.client_port':
      // 0: the sensor did not see the client's port (an access log without it).
      return get('number', (e) => requestOf(e)?.client_port || undefined);
    case 'http.user_agent':
      return get('string', (e) => firstHeader(e, 'user-agent'));
    case 'http.header':
      return arg === undefined || arg.trim() === ''
        ? unsupported(name, 'http.header needs a header name, as in http.header[x-forwarded-for]')
        : headerField(arg);
    case 'waas.action':
      return get('string', labelOf('waas.action'));
    case 'waas.enforced':
      return get('bool', flagOf('waas.enforced'));
    case 'waas.score':
      return get('number', (e) => {
        const text = nonEmpty(e.labels['waas.score']);
        const n = text === undefined ? NaN : Number(text);
        return Number.isFinite(n) ? n : undefined;
      });
    case 'waas.categories':
      return listLabel('waas.categories');
    case 'waas.locations':
      return listLabel('waas.locations');
    case 'waas.reason':
      return get('string', labelOf('waas.reason'));
    case 'waas.evidence':
      return get('string', labelOf('waas.evidence'));
    case 'waas.policy':
      return get('string', labelOf('waas.policy'));
    case 'waas.sampled':
      return get('bool', flagOf('waas.sampled'));
    default:
      return undefined;
  }
}
