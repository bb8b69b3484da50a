import { basename } from 'node:path';
import type { Event__Output } from '@mamori/proto';
import { compileLinearRegex } from '../linear-regex.js';
import type { EventKind } from '../rule.js';
import {
  fieldText,
  type ConditionNode,
  type FieldRef,
  type Literal,
  type Operator,
  type Transformer,
} from './ast.js';
import {
  EVT_TYPE_OF_KIND,
  RULE_EVENT_KINDS,
  formatEventTime,
  formatOpenFlags,
  hasOpenFlag,
  isWebField,
  isWebKind,
  type FieldAccess,
  type FieldResolver,
  type Getter,
  type RuleEventKind,
  type Scalar,
  type ValueType,
} from './fields.js';
import { compileGlob, compilePathPrefixes } from './match.js';
import { ipKey, parseCidr, parseIp, type Network } from './net.js';
import {
  MAX_SUBSTRING_GROUPS,
  NOT_ASCII,
  compileSubstrings,
  type Needle,
  type SubstringScan,
} from './substrings.js';

export type Matcher = (event: Event__Output) => boolean;

/** Why a condition cannot be compiled: a rule error, with the field or construct at fault. */
export class CompileError extends Error {
  override readonly name = 'CompileError';
  readonly field: string | undefined;
  /** Unknown fields and macros, cycles: errors wherever they are, not only where evaluated. */
  readonly structural: boolean;
  constructor(message: string, field?: string, structural = false) {
    super(message);
    this.field = field;
    this.structural = structural;
  }
}

/** What the compiler needs from the loaded files: macros and lists by name. */
export interface CompileScope {
  /** The parsed condition of a macro; throws CompileError when it has a syntax error. */
  macro(name: string): ConditionNode | undefined;
  /** The raw items of a list, or undefined when no list has that name. */
  list(name: string): readonly string[] | undefined;
  readonly fields: FieldResolver;
  /** Shared by every rule of a load: folded macros, so that rules share their results. */
  readonly cache?: CompileCache;
}

/** Folded macros per kind; created once per load with {@link createCompileCache}. */
export interface CompileCache {
  readonly macros: Map<
    string,
    { folded: Folded; eventTypes: readonly string[]; namesWeb: boolean }
  >;
}

export function createCompileCache(): CompileCache {
  return { macros: new Map() };
}

// The condition after folding for one kind: constants decided, unanswerable checks marked.
type Folded =
  | { readonly t: 'const'; readonly v: boolean }
  | { readonly t: 'unknown'; readonly field: string; readonly reason: string }
  // A comparison that cannot be compiled (wrong type of value): an error only if it survives
  // folding, since Falco's files compare e.g. evt.arg.uid of setuid, which Mamori folds away.
  | { readonly t: 'error'; readonly error: CompileError }
  | {
      readonly t: 'pred';
      readonly fn: Matcher;
      readonly negated?: Matcher;
      // What `fn` computes, for generated code (`codegen.ts`); `neg`: `fn` is its negation.
      readonly code?: PredCode;
      readonly neg?: boolean;
    }
  | { readonly t: 'and' | 'or'; readonly children: readonly Folded[] }
  | { readonly t: 'not'; readonly child: Folded };

const TRUE: Folded = { t: 'const', v: true };
const FALSE: Folded = { t: 'const', v: false };

/** A condition compiled for every kind of event it can hold on. */
export interface CompiledCondition {
  readonly matchers: Partial<Record<RuleEventKind, Matcher>>;
  readonly kinds: readonly RuleEventKind[];
  /** Kinds left out because a field the condition needs there is not available. */
  readonly unavailable: readonly { kind: RuleEventKind; field: string; reason: string }[];
  /** The evt.type values the condition names (for explaining a rule that never runs). */
  readonly eventTypes: ReadonlySet<string>;
}

export interface CompileConditionOptions {
  /**
   * Whether a web kind (`http_request`) is one the condition may hold on only when the
   * condition names it: a field of `http.*` or `waas.*`, or `evt.type = http_request`. On for
   * rules, so that a rule written for syscalls (`not proc.name in (…)` holds on a request, which
   * has no process) is never offered web requests; off for exceptions, which hold on whatever
   * their rule is offered (`container.image.repository = …` on a web request too).
   * @default true
   */
  readonly webKindsWhenNamed?: boolean;
}

// Transformed and lower-cased getters are shared across rules so that per-event caching works
// across them: one `tolower(proc.cmdline)` per event, however many rules ask.
const transformedCache = new WeakMap<FieldResolver, Map<string, FieldAccess>>();

/**
 * Compiles `condition` once for each kind of event (Falco's syscall kinds, then web requests):
 * constant parts (evt.type, evt.dir, fd.typechar, …) fold away, and what is left becomes
 * closures.
 * @throws CompileError for an unknown field or macro, a cycle, or a value of the wrong type.
 */
export function compileCondition(
  condition: ConditionNode,
  scope: CompileScope,
  options: CompileConditionOptions = {},
): CompiledCondition {
  const webWhenNamed = options.webKindsWhenNamed ?? true;
  const matchers: Partial<Record<RuleEventKind, Matcher>> = {};
  const kinds: RuleEventKind[] = [];
  const unavailable: { kind: RuleEventKind; field: string; reason: string }[] = [];
  const eventTypes = new Set<string>();
  const listCache = new Map<string, readonly string[]>();
  for (const kind of RULE_EVENT_KINDS) {
    const folder = new Folder(scope, kind, listCache, eventTypes);
    const folded = folder.fold(condition, 0);
    if (folded.t === 'const' && !folded.v) continue;
    if (webWhenNamed && isWebKind(kind) && !folder.namesWeb && !eventTypes.has(kind)) continue;
    const error = findError(folded);
    if (error !== undefined) throw error;
    const missing = findUnknown(folded);
    if (missing !== undefined) {
      unavailable.push({ kind, field: missing.field, reason: missing.reason });
      continue;
    }
    kinds.push(kind);
    matchers[kind] = compileFolded(folded);
  }
  return { matchers, kinds, unavailable, eventTypes };
}

/**
 * The most common checks as one closure each, without a separate predicate call: most of an
 * evaluation is spent in these (`proc.name in (…)`, `container.id != host`, …).
 */
function directCheck(
  type: ValueType,
  op: Operator,
  texts: readonly string[],
  get: Getter,
): [Matcher, Matcher] | undefined {
  if (type !== 'string' && type !== 'number' && type !== 'bool') return undefined;
  const c = texts[0];
  if (op === 'exists') return [(e) => get(e) !== undefined, (e) => get(e) === undefined];
  if (c === undefined) return undefined;
  if (type === 'bool' && op !== '=' && op !== '!=') return undefined;
  // buildPredicate has checked the value: a number, or true or false for a bool.
  const value = type === 'number' ? Number(c) : type === 'bool' ? c.toLowerCase() === 'true' : c;
  switch (op) {
    case '=':
      return [(e) => get(e) === value, (e) => get(e) !== value];
    case '!=':
      return [
        (e) => {
          const v = get(e);
          return v !== undefined && v !== value;
        },
        (e) => {
          const v = get(e);
          return v === undefined || v === value;
        },
      ];
    case 'in':
    case 'intersects': {
      if (type !== 'string') return undefined;
      const set = new Set<Scalar>(texts);
      return [
        (e) => {
          const v = get(e);
          return v !== undefined && set.has(v);
        },
        (e) => {
          const v = get(e);
          return v === undefined || !set.has(v);
        },
      ];
    }
    case 'startswith':
      if (type !== 'string') return undefined;
      return [
        (e) => (get(e) as string | undefined)?.startsWith(c) === true,
        (e) => (get(e) as string | undefined)?.startsWith(c) !== true,
      ];
    case 'endswith':
      if (type !== 'string') return undefined;
      return [
        (e) => (get(e) as string | undefined)?.endsWith(c) === true,
        (e) => (get(e) as string | undefined)?.endsWith(c) !== true,
      ];
    case 'contains':
      if (type !== 'string') return undefined;
      return [
        (e) => (get(e) as string | undefined)?.includes(c) === true,
        (e) => (get(e) as string | undefined)?.includes(c) !== true,
      ];
    case 'icontains': {
      if (type !== 'string') return undefined;
      const lc = c.toLowerCase();
      return [
        (e) => (get(e) as string | undefined)?.includes(lc) === true,
        (e) => (get(e) as string | undefined)?.includes(lc) !== true,
      ];
    }
    default:
      return undefined;
  }
}

/**
 * The test {@link directCheck} makes, for generated code; the same cases, the same values. Also
 * what buildPredicate tests for numbers (`<`, `in`, …), written inline rather than called.
 */
function directTest(
  type: ValueType,
  op: Operator,
  texts: readonly string[],
  label: string,
): LeafTest | undefined {
  if (type !== 'string' && type !== 'number' && type !== 'bool') return undefined;
  const c = texts[0];
  if (op === 'exists') return { op };
  if (c === undefined) return undefined;
  if (type === 'bool') {
    return op === '=' || op === '!=' ? { op, value: c.toLowerCase() === 'true' } : undefined;
  }
  const value = type === 'number' ? parseNumber(c, label) : c;
  switch (op) {
    case '=':
    case '!=':
      return { op, value };
    case '<':
    case '<=':
    case '>':
    case '>=':
      return typeof value === 'number' ? { op, value } : undefined;
    case 'in':
    case 'intersects':
      return {
        op: 'in',
        value: new Set<Scalar>(type === 'number' ? texts.map((t) => parseNumber(t, label)) : texts),
      };
    case 'startswith':
    case 'endswith':
    case 'contains':
      return type === 'string' ? { op, value: c } : undefined;
    case 'icontains':
      // The getter is the shared lower-cased value (Folder.lowered).
      return type === 'string' ? { op: 'contains', value: c.toLowerCase() } : undefined;
    default:
      return undefined;
  }
}

function findError(f: Folded): CompileError | undefined {
  switch (f.t) {
    case 'error':
      return f.error;
    case 'and':
    case 'or':
      for (const c of f.children) {
        const e = findError(c);
        if (e !== undefined) return e;
      }
      return undefined;
    case 'not':
      return findError(f.child);
    default:
      return undefined;
  }
}

function findUnknown(f: Folded): { field: string; reason: string } | undefined {
  switch (f.t) {
    case 'unknown':
      return f;
    case 'and':
    case 'or':
      for (const c of f.children) {
        const u = findUnknown(c);
        if (u !== undefined) return u;
      }
      return undefined;
    case 'not':
      return findUnknown(f.child);
    default:
      return undefined;
  }
}

// ------------------------------------------------------------------------- generated code

/** What a comparison of one field's value does, for generated code. */
type LeafTest =
  | { readonly op: 'exists' }
  | {
      readonly op: '=' | '!=' | 'in' | 'startswith' | 'endswith' | 'contains';
      readonly value: Scalar | ReadonlySet<Scalar>;
    }
  | {
      readonly op: '<' | '<=' | '>' | '>=';
      readonly value: number;
    }
  | { readonly op: 'pred'; readonly pred: Pred };

/** A predicate's meaning: a test of one field's value, or a macro's folded condition. */
type PredCode =
  | {
      readonly t: 'leaf';
      readonly get: Getter;
      readonly test: LeafTest;
      readonly cost: number;
      /** For `contains` / `icontains` on a text field: what an `or` of several shares. */
      readonly sub?: SubstringCheck;
    }
  | { readonly t: 'macro'; readonly tree: Folded; readonly memo: Matcher }
  // A check with no parts for the generator (`fn` is called as it is), and its cost.
  | { readonly t: 'opaque'; readonly cost: number };

/** `<field> contains <needle>` (`icontains`: `ignoreCase`), for {@link groupSubstrings}. */
interface SubstringCheck {
  readonly access: Extract<FieldAccess, { kind: 'get' }>;
  readonly needle: string;
  readonly ignoreCase: boolean;
}

// Relative costs, for ordering conjunctions: a field read and a comparison of identities is 1.
// Text Falco builds (proc.cmdline joins argv, fd.name resolves a path) or transforms costs more,
// and so do the ancestors: more objects to read, each a likely cache miss (measured: reading
// proc.pname of 100k events took ~1 µs an event, proc.name ~0.3 µs).
const FIELD_COST: Readonly<Record<string, number>> = {
  'proc.cmdline': 3,
  'proc.args': 3,
  'fd.name': 2,
  'fd.directory': 3,
  'fd.filename': 3,
  'fs.path.name': 2,
  'proc.pname': 4,
  'proc.pexe': 4,
  'proc.pexepath': 4,
  'proc.pcmdline': 5,
  'proc.aname': 5,
  'proc.aexe': 5,
  'proc.aexepath': 5,
  'proc.acmdline': 6,
};
const OP_COST: Readonly<Record<LeafTest['op'], number>> = {
  exists: 1,
  '=': 1,
  '!=': 1,
  '<': 1,
  '<=': 1,
  '>': 1,
  '>=': 1,
  in: 1.5,
  startswith: 1.5,
  endswith: 1.5,
  contains: 3,
  pred: 5,
};
// A check whose result is not known at compile time (a field of several values, val()).
const OPAQUE_COST = 6;
// Macros evaluated more cheaply inline than through a shared, memoized call.
const INLINE_MACRO_LEAVES = 3;

function leafCost(label: string, op: LeafTest['op']): number {
  const transformed = label.includes('(') ? 3 : 0;
  const name = label.replace(/^.*\(|[)[].*$/g, '');
  return (FIELD_COST[name] ?? 1) + transformed + OP_COST[op];
}

function leafCount(f: Folded): number {
  switch (f.t) {
    case 'and':
    case 'or':
      return f.children.reduce((n, c) => n + leafCount(c), 0);
    case 'not':
      return leafCount(f.child);
    default:
      return 1;
  }
}

/** The macro's condition when it is written into the rule's function rather than called. */
function inlined(code: PredCode | undefined): Folded | undefined {
  return code?.t === 'macro' && leafCount(code.tree) <= INLINE_MACRO_LEAVES ? code.tree : undefined;
}

// How often a check holds, for estimates: a positive comparison is false for most events, a
// negated one (`not proc.name in (…)`, `!=`) mostly true.
const P_POSITIVE = 0.1;
const P_NEGATED = 0.9;

/**
 * What evaluating `f` costs on average, with short-circuits (the `and` of a rare check and a
 * costly one mostly costs the rare check), and how often it holds.
 */
function estimate(f: Folded): { cost: number; p: number } {
  switch (f.t) {
    case 'const':
      return { cost: 0, p: f.v ? 1 : 0 };
    case 'pred': {
      const code = f.code;
      if (code === undefined) return { cost: OPAQUE_COST, p: 0.5 };
      if (code.t === 'macro') {
        const e = estimate(code.tree);
        return f.neg === true ? { cost: e.cost, p: 1 - e.p } : e;
      }
      const positive = f.neg !== true && (code.t === 'opaque' || code.test.op !== '!=');
      return { cost: code.cost, p: positive ? P_POSITIVE : P_NEGATED };
    }
    case 'not': {
      const e = estimate(f.child);
      return { cost: e.cost, p: 1 - e.p };
    }
    case 'and':
    case 'or': {
      // The chance of reaching each child: all before it held (and) or none did (or).
      let reach = 1;
      let total = 0;
      for (const c of f.children) {
        const e = estimate(c);
        total += reach * e.cost;
        reach *= f.t === 'and' ? e.p : 1 - e.p;
      }
      return { cost: total, p: f.t === 'and' ? reach : 1 - reach };
    }
    default:
      return { cost: 0, p: 0.5 };
  }
}

/** What a check costs on average, divided by how often it decides an `and` (is false). */
function rank(f: Folded): number {
  if (f.t === 'const') return 0;
  if (f.t === 'pred' && f.code === undefined) return OPAQUE_COST;
  const e = estimate(f);
  return e.cost / Math.max(1 - e.p, 0.01);
}

function cost(f: Folded): number {
  switch (f.t) {
    case 'const':
      return 0;
    case 'pred':
      return f.code === undefined
        ? OPAQUE_COST
        : f.code.t === 'macro'
          ? cost(f.code.tree)
          : f.code.cost;
    case 'not':
      return cost(f.child);
    case 'and':
    case 'or':
      return f.children.reduce((n, c) => n + cost(c), 0);
    default:
      return 0;
  }
}

/**
 * The conjuncts of a condition's top level, cheapest and most selective first. Only at the top
 * level: there a check that throws (an event missing what a decoder always sets) and a false
 * one both make the rule not match, so the order cannot change a result; inside `or` and `not`
 * it could.
 */
function topLevelOrder(f: Folded): Folded {
  if (f.t !== 'and') return f;
  const flat: Folded[] = [];
  const add = (c: Folded) => {
    if (c.t === 'and') c.children.forEach(add);
    else {
      const tree = c.t === 'pred' && c.neg !== true ? inlined(c.code) : undefined;
      if (tree !== undefined) add(tree);
      else flat.push(c);
    }
  };
  f.children.forEach(add);
  const ranked = flat.map((c, i) => ({ c, i, r: rank(c) }));
  ranked.sort((a, b) => a.r - b.r || a.i - b.i);
  return { t: 'and', children: ranked.map((x) => x.c) };
}

/**
 * Writes a folded condition as the body of one function. The source holds only identifiers
 * the generator makes (`c3`, `v1`, `h1`) and operators: every value from rule text — strings,
 * numbers, sets, regexes, getters — is a constant passed in as an argument, so no rule text
 * can ever become code.
 */
class Generator {
  readonly constants: unknown[] = [];
  private readonly constantIds = new Map<unknown, number>();
  private readonly slots = new Map<Getter, { id: number; uses: number }>();
  private counting = true;

  constant(value: unknown): string {
    let id = this.constantIds.get(value);
    if (id === undefined) {
      id = this.constants.length;
      this.constants.push(value);
      this.constantIds.set(value, id);
    }
    return `c${id}`;
  }

  /** The source of `f`, after a first pass that counts how often each field is read. */
  body(f: Folded): { locals: string; expr: string } {
    this.counting = true;
    this.expr(f);
    this.counting = false;
    const expr = this.expr(f);
    const locals: string[] = [];
    for (const { id, uses } of this.slots.values()) {
      locals.push(uses > 1 ? `v${id}, h${id} = false` : `v${id}`);
    }
    return { locals: locals.length > 0 ? `let ${locals.join(', ')};` : '', expr };
  }

  private expr(f: Folded): string {
    switch (f.t) {
      case 'const':
        return f.v ? 'true' : 'false';
      case 'unknown':
      case 'error':
        // Never reached: conditions with unknowns or errors are not compiled.
        return 'false';
      case 'not':
        return `!${this.expr(f.child)}`;
      case 'and':
      case 'or':
        return `(${f.children.map((c) => this.expr(c)).join(f.t === 'and' ? ' && ' : ' || ')})`;
      case 'pred': {
        const code = f.code;
        // `fn` of an opaque check is already negated where `neg` says so (Folder.fold).
        if (code === undefined || code.t === 'opaque') return `${this.constant(f.fn)}(e)`;
        const tree = inlined(code);
        const positive =
          code.t === 'leaf'
            ? this.leaf(code)
            : tree !== undefined
              ? this.expr(tree)
              : `${this.constant(code.memo)}(e)`;
        return f.neg === true ? `!${positive}` : positive;
      }
    }
  }

  private leaf(code: Extract<PredCode, { t: 'leaf' }>): string {
    let slot = this.slots.get(code.get);
    if (slot === undefined) {
      slot = { id: this.slots.size, uses: 0 };
      this.slots.set(code.get, slot);
    }
    if (this.counting) slot.uses++;
    const v = `v${slot.id}`;
    const get = `${this.constant(code.get)}(e)`;
    // A field read in several places is read once, when first needed.
    const read =
      slot.uses > 1 ? `(h${slot.id} || (${v} = ${get}, h${slot.id} = true))` : `(${v} = ${get})`;
    const test = code.test;
    switch (test.op) {
      case 'exists':
        return `(${read}, ${v} !== undefined)`;
      case '=':
        return `(${read}, ${v} === ${this.constant(test.value)})`;
      case '!=':
        return `(${read}, ${v} !== undefined && ${v} !== ${this.constant(test.value)})`;
      case 'in':
        return `(${read}, ${v} !== undefined && ${this.constant(test.value)}.has(${v}))`;
      case 'startswith':
      case 'endswith':
        return `(${read}, ${v} !== undefined && ${v}.${test.op === 'startswith' ? 'startsWith' : 'endsWith'}(${this.constant(test.value)}))`;
      case 'contains':
        return `(${read}, ${v} !== undefined && ${v}.includes(${this.constant(test.value)}))`;
      case '<':
      case '<=':
      case '>':
      case '>=':
        return `(${read}, ${v} !== undefined && ${v} ${test.op} ${this.constant(test.value)})`;
      case 'pred':
        return `(${read}, ${v} !== undefined && ${this.constant(test.pred)}(${v}))`;
    }
  }
}

/**
 * `f` as one generated function (memoized on the event's identity with `memo`, for macros that
 * rules share). V8 optimizes each generated function on its own, so every call in it has one
 * target and small getters are inlined, where shared closures would make each call site see
 * every rule's functions.
 */
function compileFolded(f: Folded, memo = false): Matcher {
  const g = new Generator();
  const { locals, expr } = g.body(memo ? f : topLevelOrder(f));
  const params = g.constants.map((_, i) => `k${i}`);
  // Constants as `const` of the factory: V8 folds them into the generated function.
  const consts = params.map((k, i) => `const c${i} = ${k};`).join('\n');
  const fn = memo
    ? `let last, value = false;\nreturn function matcher(e) {\n${locals}\nif (e !== last) {\nvalue = ${expr};\nlast = e;\n}\nreturn value;\n};`
    : `return function matcher(e) {\n${locals}\nreturn ${expr};\n};`;
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- generated from the folded condition alone; every value from rule text is passed in as an argument, never written into the source (see Generator)
  const factory = new Function(...params, `'use strict';\n${consts}\n${fn}`) as (
    ...constants: unknown[]
  ) => Matcher;
  return factory(...g.constants);
}

function substringCheck(f: Folded | undefined): SubstringCheck | undefined {
  return f?.t === 'pred' && f.neg !== true && f.code?.t === 'leaf' ? f.code.sub : undefined;
}

/**
 * Runs of `contains` / `icontains` on one field among an `or`'s alternatives, each as one check
 * that reads the field once for all their needles (`substrings.ts`). Only runs of neighbours:
 * then the group is evaluated where its first member was and nothing else is reordered, so an
 * event that makes a check throw gets the same result as before.
 */
function groupSubstrings(children: readonly Folded[]): Folded[] {
  const out: Folded[] = [];
  let i = 0;
  while (i < children.length) {
    const first = substringCheck(children[i]);
    let j = i + 1;
    if (first !== undefined) {
      while (j < children.length && substringCheck(children[j])?.access === first.access) j++;
    }
    if (j - i < 2) out.push(children[i++] as Folded);
    else {
      out.push(substringGroup(children.slice(i, j)));
      i = j;
    }
  }
  return out;
}

/**
 * The `or` groups of needles on one field (one access, so one load and kind), searched together
 * once per event: rules that search the same field share the pass.
 */
class SharedSubstrings {
  private readonly groups: Needle[][] = [];
  private scanner: SubstringScan | undefined;
  private last: Event__Output | undefined;
  private present = false;
  /** After {@link scan}: groups that occur, and groups only their plain checks can decide. */
  matched = 0;
  unsure = 0;
  private readonly read: NonNullable<Extract<FieldAccess, { kind: 'get' }>['scan']>;

  constructor(access: Extract<FieldAccess, { kind: 'get' }>) {
    const { get } = access;
    this.read =
      access.scan ??
      ((e, sink, state) => {
        const v = get(e);
        return v === undefined ? undefined : sink.step(state, v as string);
      });
  }

  get full(): boolean {
    return this.groups.length === MAX_SUBSTRING_GROUPS;
  }

  /** Adds a group; its bit in {@link matched} and {@link unsure}. */
  add(needles: Needle[]): number {
    this.groups.push(needles);
    this.scanner = undefined;
    this.last = undefined;
    return 1 << (this.groups.length - 1);
  }

  /** Scans the field of `e` (once per event); false when `e` has no value for it. */
  scan(e: Event__Output): boolean {
    if (e !== this.last) {
      const scanner = (this.scanner ??= compileSubstrings(this.groups));
      const state = this.read(e, scanner, scanner.start());
      this.present = state !== undefined;
      if (state === NOT_ASCII) {
        this.matched = 0;
        this.unsure = -1;
      } else {
        this.matched = scanner.matched | scanner.anything;
        this.unsure = scanner.unsure;
      }
      this.last = e;
    }
    return this.present;
  }
}

const sharedSubstrings = new WeakMap<FieldAccess, SharedSubstrings>();

function substringGroup(members: readonly Folded[]): Folded {
  const checks = members.map((m) => substringCheck(m) as SubstringCheck);
  const { access } = checks[0] as SubstringCheck;
  let shared = sharedSubstrings.get(access);
  if (shared === undefined || shared.full) {
    shared = new SharedSubstrings(access);
    sharedSubstrings.set(access, shared);
  }
  const scan = shared;
  const bit = scan.add(checks.map((c) => ({ text: c.needle, ignoreCase: c.ignoreCase })));
  // The members' own checks decide what one pass cannot (see substrings.ts).
  const plain = members.map((m) => (m as Extract<Folded, { t: 'pred' }>).fn);
  const fn: Matcher = (e) => {
    if (!scan.scan(e)) return false;
    if ((scan.matched & bit) !== 0) return true;
    if ((scan.unsure & bit) === 0) return false;
    for (let k = 0; k < plain.length; k++) if ((plain[k] as Matcher)(e)) return true;
    return false;
  };
  const costs = members.map((m) => cost(m));
  return {
    t: 'pred',
    fn,
    negated: (e) => !fn(e),
    code: { t: 'opaque', cost: Math.max(...costs) },
  };
}

// Deeper macro nesting than this is a cycle or a mistake; Falco's own files nest a few levels.
const MAX_MACRO_DEPTH = 64;

class Folder {
  /** Whether the condition names a field of web requests (`http.*`, `waas.*`). */
  namesWeb = false;
  private readonly macroStack: string[] = [];
  private readonly scope: CompileScope;
  private readonly kind: RuleEventKind;
  private readonly listCache: Map<string, readonly string[]>;
  private eventTypes: Set<string>;

  constructor(
    scope: CompileScope,
    kind: RuleEventKind,
    listCache: Map<string, readonly string[]>,
    eventTypes: Set<string>,
  ) {
    this.scope = scope;
    this.kind = kind;
    this.listCache = listCache;
    this.eventTypes = eventTypes;
  }

  fold(node: ConditionNode, depth: number): Folded {
    switch (node.type) {
      case 'and':
      case 'or':
        return this.foldJunction(node.type, node.children, depth);
      case 'not': {
        const child = this.fold(node.child, depth);
        if (child.t === 'const') return child.v ? FALSE : TRUE;
        // `not <check>` is the most common shape (`and not proc.name in (…)`): one closure.
        if (child.t === 'pred' && child.negated !== undefined)
          return child.code === undefined
            ? { t: 'pred', fn: child.negated, negated: child.fn }
            : {
                t: 'pred',
                fn: child.negated,
                negated: child.fn,
                code: child.code,
                neg: child.neg !== true,
              };
        return { t: 'not', child };
      }
      case 'macro':
        return this.foldMacro(node.name, depth);
      case 'check':
        try {
          return this.foldCheck(node);
        } catch (err) {
          if (err instanceof CompileError && !err.structural) return { t: 'error', error: err };
          throw err;
        }
    }
  }

  private foldJunction(
    type: 'and' | 'or',
    children: readonly ConditionNode[],
    depth: number,
  ): Folded {
    const absorbing = type === 'or'; // `true` decides an `or`, `false` an `and`
    const kept: Folded[] = [];
    let decided = false;
    // Every child is folded, even after the result is decided, so that errors (unknown fields,
    // bad values) are found whatever the kind.
    for (const c of children) {
      const f = this.fold(c, depth);
      if (f.t === 'const') {
        if (f.v === absorbing) decided = true;
        continue;
      }
      if (f.t === type) kept.push(...f.children);
      else kept.push(f);
    }
    if (decided) return absorbing ? TRUE : FALSE;
    if (kept.length === 0) return absorbing ? FALSE : TRUE;
    const alternatives = type === 'or' ? groupSubstrings(kept) : kept;
    if (alternatives.length === 1) return alternatives[0] as Folded;
    return { t: type, children: alternatives };
  }

  private foldMacro(name: string, depth: number): Folded {
    const key = `${this.kind}\u0000${name}`;
    const cached = this.scope.cache?.macros.get(key);
    if (cached !== undefined && !this.macroStack.includes(name)) {
      for (const t of cached.eventTypes) this.eventTypes.add(t);
      if (cached.namesWeb) this.namesWeb = true;
      return cached.folded;
    }
    const outer = this.eventTypes;
    const outerWeb = this.namesWeb;
    const mine = new Set<string>();
    this.eventTypes = mine;
    this.namesWeb = false;
    let folded: Folded;
    let namesWeb: boolean;
    try {
      folded = this.foldMacroBody(name, depth);
    } finally {
      namesWeb = this.namesWeb;
      this.eventTypes = outer;
      this.namesWeb = outerWeb || namesWeb;
      for (const t of mine) outer.add(t);
    }
    // A macro's result is the same in every rule that uses it: evaluated once per event,
    // shared by all of them (`container`, `spawned_process`, `shell_procs`, …).
    if (folded.t === 'and' || folded.t === 'or' || folded.t === 'not') {
      if (findError(folded) === undefined && findUnknown(folded) === undefined) {
        const fn = compileFolded(folded, true);
        folded = {
          t: 'pred',
          fn,
          negated: (e) => !fn(e),
          code: { t: 'macro', tree: folded, memo: fn },
        };
      }
    }
    this.scope.cache?.macros.set(key, { folded, eventTypes: [...mine], namesWeb });
    return folded;
  }

  private foldMacroBody(name: string, depth: number): Folded {
    if (this.macroStack.includes(name)) {
      throw new CompileError(
        `macro ${name} refers to itself (${[...this.macroStack, name].join(' -> ')})`,
        name,
        true,
      );
    }
    if (depth >= MAX_MACRO_DEPTH)
      throw new CompileError(`macros nested too deeply at ${name}`, name, true);
    const body = this.scope.macro(name);
    if (body === undefined) throw new CompileError(`undefined macro ${name}`, name, true);
    this.macroStack.push(name);
    try {
      return this.fold(body, depth + 1);
    } finally {
      this.macroStack.pop();
    }
  }

  /** List items with list names expanded (lists in lists), in order, without duplicates. */
  private expand(items: readonly Literal[]): string[] {
    const out: string[] = [];
    for (const item of items) {
      if (!item.quoted && this.scope.list(item.text) !== undefined)
        out.push(...this.listItems(item.text, []));
      else out.push(item.text);
    }
    return out;
  }

  private listItems(name: string, stack: string[]): readonly string[] {
    const cached = this.listCache.get(name);
    if (cached !== undefined) return cached;
    if (stack.includes(name)) throw new CompileError(`list ${name} contains itself`, name, true);
    const raw = this.scope.list(name) ?? [];
    const out: string[] = [];
    for (const text of raw) {
      const item = listItemLiteral(text);
      if (!item.quoted && item.text !== name && this.scope.list(item.text) !== undefined) {
        out.push(...this.listItems(item.text, [...stack, name]));
      } else out.push(item.text);
    }
    this.listCache.set(name, out);
    return out;
  }

  private foldCheck(node: Extract<ConditionNode, { type: 'check' }>): Folded {
    const { field, op, operand } = node;
    if (field.name === 'evt.type' && operand !== undefined && (op === '=' || op === 'in')) {
      const values =
        operand.kind === 'list'
          ? this.expand(operand.items)
          : operand.kind === 'literal'
            ? [operand.value.text]
            : [];
      for (const v of values) this.eventTypes.add(v);
    }
    const access = this.access(field);
    const label = fieldText(field);
    switch (access.kind) {
      case 'absent':
        // Falco: a field that cannot be extracted makes every comparison on it false.
        return FALSE;
      case 'unsupported':
        return { t: 'unknown', field: label, reason: access.reason };
      case 'atLeast':
        return this.foldBound(
          label,
          access.min,
          access.reason,
          op,
          operand === undefined ? [] : this.operandTexts(operand),
        );
      default:
        break;
    }
    if (operand?.kind === 'field') return this.foldFieldCompare(access, op, operand.field, label);
    const texts = operand === undefined ? [] : this.operandTexts(operand);
    const pred = buildPredicate(access.type, op, texts, label);
    if (access.kind === 'const') {
      const v = access.value;
      return pred(op === 'icontains' && typeof v === 'string' ? v.toLowerCase() : v) ? TRUE : FALSE;
    }
    if (access.kind === 'get') {
      const get =
        op === 'icontains' && access.type === 'string' ? this.lowered(field, access) : access.get;
      const direct = directCheck(access.type, op, texts, get);
      const test = directTest(access.type, op, texts, label) ?? { op: 'pred', pred };
      const needle = texts[0];
      const sub =
        (op === 'contains' || op === 'icontains') &&
        access.type === 'string' &&
        direct !== undefined &&
        needle !== undefined
          ? { access, needle, ignoreCase: op === 'icontains' }
          : undefined;
      const code: PredCode = {
        t: 'leaf',
        get,
        test,
        cost: leafCost(label, test.op),
        ...(sub === undefined ? {} : { sub }),
      };
      if (direct !== undefined) return { t: 'pred', fn: direct[0], negated: direct[1], code };
      return {
        t: 'pred',
        fn: (e) => {
          const v = get(e);
          return v !== undefined && pred(v);
        },
        negated: (e) => {
          const v = get(e);
          return v === undefined || !pred(v);
        },
        code,
      };
    }
    const lower = op === 'icontains' && access.type === 'string';
    const some = access.some;
    if (some !== undefined && !lower) {
      return { t: 'pred', fn: (e) => some(e, pred), negated: (e) => !some(e, pred) };
    }
    const many = access.get;
    return {
      t: 'pred',
      fn: (e) => {
        const vs = many(e);
        if (vs === undefined) return false;
        for (let i = 0; i < vs.length; i++) {
          const v = vs[i] as Scalar;
          if (pred(lower ? String(v).toLowerCase() : v)) return true;
        }
        return false;
      },
    };
  }

  private operandTexts(
    operand: NonNullable<Extract<ConditionNode, { type: 'check' }>['operand']>,
  ): string[] {
    if (operand.kind === 'list') return this.expand(operand.items);
    if (operand.kind === 'literal') {
      // A bare name of a list on the right of `=` stays a literal, as in Falco.
      return [operand.value.text];
    }
    return [];
  }

  /** A number known only to be at least `min`: decide what the bound decides. */
  private foldBound(
    label: string,
    min: number,
    reason: string,
    op: Operator,
    texts: readonly string[],
  ): Folded {
    if (op === 'exists') return TRUE;
    const nums = texts.map((t) => parseNumber(t, label));
    const c = nums[0] ?? NaN;
    let decided: boolean | undefined;
    switch (op) {
      case '=':
        decided = c < min ? false : undefined;
        break;
      case '!=':
        decided = c < min ? true : undefined;
        break;
      case '>=':
        decided = c <= min ? true : undefined;
        break;
      case '>':
        decided = c < min ? true : undefined;
        break;
      case '<':
        decided = c <= min ? false : undefined;
        break;
      case '<=':
        decided = c < min ? false : undefined;
        break;
      case 'in':
      case 'intersects':
        decided = nums.every((n) => n < min) ? false : undefined;
        break;
      default:
        throw new CompileError(`operator ${op} does not apply to the number ${label}`, label);
    }
    return decided === undefined ? { t: 'unknown', field: label, reason } : decided ? TRUE : FALSE;
  }

  private foldFieldCompare(
    left: Extract<FieldAccess, { kind: 'const' | 'get' | 'any' }>,
    op: Operator,
    rightRef: FieldRef,
    label: string,
  ): Folded {
    const right = this.access(rightRef);
    const rightLabel = fieldText(rightRef);
    if (right.kind === 'absent') return FALSE;
    if (right.kind === 'unsupported')
      return { t: 'unknown', field: rightLabel, reason: right.reason };
    if (right.kind === 'atLeast') return { t: 'unknown', field: rightLabel, reason: right.reason };
    if (left.kind === 'any' || right.kind === 'any') {
      throw new CompileError(`val() cannot compare fields with several values (${label})`, label);
    }
    const cmp = fieldComparator(op, left.type === 'number' && right.type === 'number', label);
    const l: Getter = left.kind === 'const' ? () => left.value : left.get;
    const r: Getter = right.kind === 'const' ? () => right.value : right.get;
    return {
      t: 'pred',
      fn: (e) => {
        const a = l(e);
        if (a === undefined) return false;
        const b = r(e);
        return b !== undefined && cmp(a, b);
      },
    };
  }

  private access(field: FieldRef): FieldAccess {
    if (isWebField(field.name)) this.namesWeb = true;
    const base = this.scope.fields.resolve(field.name, field.arg, this.kind);
    const label = fieldText(field);
    if (base.kind === 'unknown') throw new CompileError(`unknown field ${label}`, label, true);
    if (field.transformers.length === 0) return base;
    return this.transformed(field, base);
  }

  private cacheFor(): Map<string, FieldAccess> {
    let cache = transformedCache.get(this.scope.fields);
    if (cache === undefined) {
      cache = new Map();
      transformedCache.set(this.scope.fields, cache);
    }
    return cache;
  }

  private transformed(field: FieldRef, base: FieldAccess): FieldAccess {
    const key = `${this.kind}\u0000${fieldText(field)}`;
    const cache = this.cacheFor();
    const hit = cache.get(key);
    if (hit !== undefined) return hit;
    let access = base;
    for (let i = field.transformers.length - 1; i >= 0; i--) {
      access = applyTransformer(field.transformers[i] as Transformer, access, fieldText(field));
    }
    cache.set(key, access);
    return access;
  }

  /** The lower-cased value of a string field, shared by every icontains on it. */
  private lowered(field: FieldRef, access: Extract<FieldAccess, { kind: 'get' }>): Getter {
    const lowerField: FieldRef = { ...field, transformers: ['tolower', ...field.transformers] };
    const key = `${this.kind}\u0000${fieldText(lowerField)}`;
    const cache = this.cacheFor();
    let hit = cache.get(key);
    if (hit === undefined) {
      hit = applyTransformer('tolower', access, fieldText(lowerField));
      cache.set(key, hit);
    }
    return hit.kind === 'get' ? hit.get : access.get;
  }
}

/** A list item as written in YAML: `'"a b"'` is the quoted string `a b`, `x` a bare word. */
export function listItemLiteral(raw: string): Literal {
  const t = raw.trim();
  if (t.length >= 2) {
    const q = t.charAt(0);
    if ((q === '"' || q === "'") && t.endsWith(q)) {
      let out = '';
      for (let i = 1; i < t.length - 1; i++) {
        const c = t.charAt(i);
        const n = t.charAt(i + 1);
        if (c === '\\' && (n === '"' || n === "'" || n === '\\')) {
          out += n;
          i++;
        } else out += c;
      }
      return { text: out, quoted: true };
    }
  }
  return { text: t, quoted: false };
}

function memoGetter(get: Getter): Getter {
  let last: Event__Output | undefined;
  let value: Scalar | undefined;
  return (e) => {
    if (e !== last) {
      value = get(e);
      last = e;
    }
    return value;
  };
}

function transformValue(t: Transformer, v: Scalar): Scalar | undefined {
  if (t === 'len') return typeof v === 'string' ? v.length : undefined;
  if (typeof v !== 'string') return undefined;
  switch (t) {
    case 'tolower':
      return v.toLowerCase();
    case 'toupper':
      return v.toUpperCase();
    case 'basename':
      return basename(v);
    case 'b64':
      return Buffer.from(v, 'base64').toString('utf8');
  }
}

function applyTransformer(t: Transformer, access: FieldAccess, label: string): FieldAccess {
  const stringy = (type: ValueType) => type === 'string' || type === 'ip' || type === 'net';
  const type: ValueType = t === 'len' ? 'number' : 'string';
  switch (access.kind) {
    case 'absent':
    case 'unsupported':
      return access;
    case 'atLeast':
      return { kind: 'unsupported', reason: access.reason };
    case 'const': {
      if (!stringy(access.type))
        throw new CompileError(`${t}() applies to text, not to ${label}`, label);
      const v = transformValue(t, access.value);
      return v === undefined ? { kind: 'absent' } : { kind: 'const', type, value: v };
    }
    case 'get': {
      if (!stringy(access.type))
        throw new CompileError(`${t}() applies to text, not to ${label}`, label);
      const inner = access.get;
      return {
        kind: 'get',
        type,
        get: memoGetter((e) => {
          const v = inner(e);
          return v === undefined ? undefined : transformValue(t, v);
        }),
      };
    }
    case 'any': {
      const inner = access.get;
      if (t === 'len') {
        return { kind: 'get', type: 'number', get: (e) => inner(e)?.length };
      }
      if (!stringy(access.type))
        throw new CompileError(`${t}() applies to text, not to ${label}`, label);
      const render = access.render;
      let last: Event__Output | undefined;
      let value: Scalar[] | undefined;
      return {
        kind: 'any',
        type,
        get: (e) => {
          if (e !== last) {
            const vs = inner(e);
            value = vs
              ?.map((v) => transformValue(t, v))
              .filter((v): v is Scalar => v !== undefined);
            last = e;
          }
          return value;
        },
        render: (e) => {
          const v = render(e);
          return v === undefined ? undefined : transformValue(t, v);
        },
      };
    }
  }
}

function parseNumber(text: string, label: string): number {
  const n = /^-?(?:0x[0-9a-fA-F]+|[0-9]+(?:\.[0-9]+)?)$/.test(text.trim())
    ? Number(text.trim())
    : NaN;
  if (Number.isNaN(n)) throw new CompileError(`${label} is a number; '${text}' is not`, label);
  return n;
}

function parseBool(text: string, label: string): boolean {
  const t = text.toLowerCase();
  if (t === 'true') return true;
  if (t === 'false') return false;
  throw new CompileError(`${label} is true or false; '${text}' is neither`, label);
}

function hexBytes(text: string, label: string): Buffer {
  if (!/^(?:[0-9a-fA-F]{2})+$/.test(text)) {
    throw new CompileError(
      `${label}: binary operators take hexadecimal bytes, not '${text}'`,
      label,
    );
  }
  return Buffer.from(text, 'hex');
}

type Pred = (v: Scalar) => boolean;

function one(texts: readonly string[], op: Operator, label: string): string {
  const t = texts[0];
  if (t === undefined) throw new CompileError(`${op} on ${label} needs a value`, label);
  return t;
}

/**
 * The comparison `<field> <op> <values>` as a function of the field's value, with every
 * constant prepared once (sets, prefix tries, regexes, lower-cased needles).
 * @throws CompileError when the operator does not apply to the type or a value is malformed.
 */
export function buildPredicate(
  type: ValueType,
  op: Operator,
  texts: readonly string[],
  label: string,
): Pred {
  if (op === 'exists') return () => true;
  switch (type) {
    case 'string':
      return stringPredicate(op, texts, label);
    case 'number':
    case 'time':
      return numberPredicate(op, texts, label);
    case 'bool': {
      if (op !== '=' && op !== '!=' && op !== 'in')
        throw new CompileError(`operator ${op} does not apply to ${label}`, label);
      if (op === 'in') {
        const set = new Set(texts.map((t) => parseBool(t, label)));
        return (v) => set.has(v as boolean);
      }
      const b = parseBool(one(texts, op, label), label);
      return op === '=' ? (v) => v === b : (v) => v !== b;
    }
    case 'ip':
      return ipPredicate(op, texts, label);
    case 'net':
      return netPredicate(op, texts, label);
    case 'flags':
      return flagsPredicate(op, texts, label);
  }
}

function stringPredicate(op: Operator, texts: readonly string[], label: string): Pred {
  switch (op) {
    case '=': {
      const c = one(texts, op, label);
      return (v) => v === c;
    }
    case '!=': {
      const c = one(texts, op, label);
      return (v) => v !== c;
    }
    case 'in':
    case 'intersects': {
      const set = new Set(texts);
      return (v) => set.has(v as string);
    }
    case 'pmatch': {
      const m = safe(() => compilePathPrefixes(texts), label);
      return (v) => m(v as string);
    }
    case 'contains': {
      const c = one(texts, op, label);
      return (v) => (v as string).includes(c);
    }
    case 'icontains': {
      // The value arrives lower-cased (a shared tolower getter); only the needle is lowered here.
      const c = one(texts, op, label).toLowerCase();
      return (v) => (v as string).includes(c);
    }
    case 'startswith': {
      const c = one(texts, op, label);
      return (v) => (v as string).startsWith(c);
    }
    case 'endswith': {
      const c = one(texts, op, label);
      return (v) => (v as string).endsWith(c);
    }
    case 'glob': {
      const m = safe(() => compileGlob(one(texts, op, label)), label);
      return (v) => m(v as string);
    }
    case 'regex': {
      // Falco's regex must match the whole value (RE2 full match).
      const re = safe(() => compileLinearRegex(one(texts, op, label)), label);
      return (v) => re.matchesWhole(v as string);
    }
    case 'bcontains': {
      const bytes = hexBytes(one(texts, op, label), label);
      return (v) => Buffer.from(v as string, 'utf8').includes(bytes);
    }
    case 'bstartswith': {
      const bytes = hexBytes(one(texts, op, label), label);
      return (v) => {
        const b = Buffer.from(v as string, 'utf8');
        return b.length >= bytes.length && b.subarray(0, bytes.length).equals(bytes);
      };
    }
    default:
      throw new CompileError(`operator ${op} does not apply to the text field ${label}`, label);
  }
}

function safe<T>(make: () => T, label: string): T {
  try {
    return make();
  } catch (err) {
    if (err instanceof CompileError) throw err;
    throw new CompileError(`${label}: ${err instanceof Error ? err.message : String(err)}`, label);
  }
}

function numberPredicate(op: Operator, texts: readonly string[], label: string): Pred {
  if (op === 'in' || op === 'intersects') {
    const set = new Set(texts.map((t) => parseNumber(t, label)));
    return (v) => set.has(v as number);
  }
  const c = parseNumber(one(texts, op, label), label);
  switch (op) {
    case '=':
      return (v) => v === c;
    case '!=':
      return (v) => v !== c;
    case '<':
      return (v) => (v as number) < c;
    case '<=':
      return (v) => (v as number) <= c;
    case '>':
      return (v) => (v as number) > c;
    case '>=':
      return (v) => (v as number) >= c;
    default:
      throw new CompileError(`operator ${op} does not apply to the number ${label}`, label);
  }
}

function ipPredicate(op: Operator, texts: readonly string[], label: string): Pred {
  const key = (t: string) => {
    const k = ipKey(t);
    if (k === undefined) throw new CompileError(`${label} is an IP address; '${t}' is not`, label);
    return k;
  };
  switch (op) {
    case '=': {
      const c = key(one(texts, op, label));
      return (v) => ipKey(v as string) === c;
    }
    case '!=': {
      const c = key(one(texts, op, label));
      return (v) => {
        const k = ipKey(v as string);
        return k !== undefined && k !== c;
      };
    }
    case 'in':
    case 'intersects': {
      const set = new Set(texts.map(key));
      return (v) => {
        const k = ipKey(v as string);
        return k !== undefined && set.has(k);
      };
    }
    default:
      throw new CompileError(`operator ${op} does not apply to the address ${label}`, label);
  }
}

function netPredicate(op: Operator, texts: readonly string[], label: string): Pred {
  const net = (t: string): Network => {
    const n = parseCidr(t);
    if (n === undefined)
      throw new CompileError(
        `${label} compares with networks such as 10.0.0.0/8; '${t}' is not one`,
        label,
      );
    return n;
  };
  const inAny = (nets: readonly Network[]) => (v: Scalar) => {
    const ip = parseIp(v as string);
    if (ip === undefined) return false;
    for (const n of nets) if (n.contains(ip)) return true;
    return false;
  };
  switch (op) {
    case '=':
      return inAny([net(one(texts, op, label))]);
    case '!=': {
      const n = net(one(texts, op, label));
      return (v) => {
        const ip = parseIp(v as string);
        return ip !== undefined && !n.contains(ip);
      };
    }
    case 'in':
    case 'intersects':
      return inAny(texts.map(net));
    default:
      throw new CompileError(`operator ${op} does not apply to the network field ${label}`, label);
  }
}

function flagsPredicate(op: Operator, texts: readonly string[], label: string): Pred {
  if (op === 'contains') {
    // For flags, `contains` tests the flags named (`O_TRUNC`, or `O_CREAT|O_TRUNC`), not text.
    const names = one(texts, op, label).split('|');
    for (const n of names) {
      if (hasOpenFlag(0, n) === undefined)
        throw new CompileError(`${label}: ${n} is not an open flag`, label);
    }
    return (v) => names.every((n) => hasOpenFlag(v as number, n) === true);
  }
  const text = stringPredicate(op, texts, label);
  if (op === 'icontains') return (v) => text(formatOpenFlags(v as number).toLowerCase());
  return (v) => text(formatOpenFlags(v as number));
}

function fieldComparator(
  op: Operator,
  numeric: boolean,
  label: string,
): (a: Scalar, b: Scalar) => boolean {
  if (numeric) {
    switch (op) {
      case '=':
        return (a, b) => a === b;
      case '!=':
        return (a, b) => a !== b;
      case '<':
        return (a, b) => (a as number) < (b as number);
      case '<=':
        return (a, b) => (a as number) <= (b as number);
      case '>':
        return (a, b) => (a as number) > (b as number);
      case '>=':
        return (a, b) => (a as number) >= (b as number);
      default:
        break;
    }
  } else {
    switch (op) {
      case '=':
        return (a, b) => String(a) === String(b);
      case '!=':
        return (a, b) => String(a) !== String(b);
      case 'contains':
        return (a, b) => String(a).includes(String(b));
      case 'startswith':
        return (a, b) => String(a).startsWith(String(b));
      case 'endswith':
        return (a, b) => String(a).endsWith(String(b));
      default:
        break;
    }
  }
  throw new CompileError(`operator ${op} cannot compare ${label} with val()`, label);
}

// ------------------------------------------------------------------------------- outputs

const NA = '<NA>';

// What %container.info stands for when Falco is not told otherwise.
const CONTAINER_INFO =
  'container_id=%container.id container_name=%container.name container_image_repository=%container.image.repository container_image_tag=%container.image.tag k8s_ns_name=%k8s.ns.name k8s_pod_name=%k8s.pod.name';

type Part = string | FieldRef;

function isFieldChar(c: number): boolean {
  return (
    (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || c === 46
  );
}

/** Splits an output template into text and `%field` references. */
export function parseOutput(template: string): Part[] {
  const text = template.replaceAll('%container.info', CONTAINER_INFO);
  const parts: Part[] = [];
  let literal = '';
  let i = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c !== 37 /* % */) {
      literal += text.charAt(i++);
      continue;
    }
    let j = i + 1;
    while (j < text.length && isFieldChar(text.charCodeAt(j))) j++;
    // A sentence may end right after a field: `file=%fd.name.`
    let end = j;
    while (end > i + 1 && text.charCodeAt(end - 1) === 46) end--;
    const name = text.slice(i + 1, end);
    if (!name.includes('.')) {
      literal += '%';
      i++;
      continue;
    }
    let arg: string | undefined;
    if (end === j && text.charCodeAt(j) === 91 /* [ */) {
      const close = text.indexOf(']', j);
      if (close > j) {
        arg = text.slice(j + 1, close);
        end = close + 1;
      }
    }
    if (literal !== '') parts.push(literal);
    literal = '';
    parts.push(
      arg === undefined
        ? { name, transformers: [], pos: i }
        : { name, arg, transformers: [], pos: i },
    );
    i = end;
  }
  if (literal !== '') parts.push(literal);
  return parts;
}

function renderValue(type: ValueType, v: Scalar): string {
  if (type === 'flags') return formatOpenFlags(v as number);
  if (type === 'time') return formatEventTime(v as number);
  return String(v);
}

type TextGetter = (e: Event__Output) => string | undefined;

function textGetter(access: FieldAccess | { kind: 'unknown' }): TextGetter {
  switch (access.kind) {
    case 'const': {
      const text = renderValue(access.type, access.value);
      return () => text;
    }
    case 'get': {
      const { get, type } = access;
      return (e) => {
        const v = get(e);
        return v === undefined ? undefined : renderValue(type, v);
      };
    }
    case 'any': {
      const { render, type } = access;
      return (e) => {
        const v = render(e);
        return v === undefined ? undefined : renderValue(type, v);
      };
    }
    default:
      return () => undefined;
  }
}

/** A compiled output: render() and details() for events of any kind. */
export interface CompiledOutput {
  render(event: Event__Output): string;
  details(event: Event__Output): Record<string, string>;
}

/** Compiles an output template; fields are resolved per kind, on first use of that kind. */
export function compileOutput(template: string, fields: FieldResolver): CompiledOutput {
  const parts = parseOutput(template);
  const byKind = new Map<
    EventKind | undefined,
    { parts: (string | TextGetter)[]; named: [string, TextGetter][] }
  >();
  const forKind = (kind: EventKind | undefined) => {
    let compiled = byKind.get(kind);
    if (compiled !== undefined) return compiled;
    const ruleKind = (RULE_EVENT_KINDS as readonly string[]).includes(kind ?? '')
      ? (kind as RuleEventKind)
      : undefined;
    const named = new Map<string, TextGetter>();
    const out = parts.map((p) => {
      if (typeof p === 'string') return p;
      const key = fieldText(p);
      let getter = named.get(key);
      if (getter === undefined) {
        getter =
          ruleKind === undefined
            ? () => undefined
            : textGetter(fields.resolve(p.name, p.arg, ruleKind));
        named.set(key, getter);
      }
      return getter;
    });
    compiled = { parts: out, named: [...named] };
    byKind.set(kind, compiled);
    return compiled;
  };
  return {
    render(event) {
      let s = '';
      for (const p of forKind(event.payload).parts)
        s += typeof p === 'string' ? p : (p(event) ?? NA);
      return s;
    },
    details(event) {
      const out: Record<string, string> = {};
      for (const [key, get] of forKind(event.payload).named) {
        const v = get(event);
        if (v !== undefined) out[key] = v;
      }
      return out;
    },
  };
}

/** The Falco syscall (or Mamori's `evt.type`) each kind is seen as, for messages. */
export function describeKinds(kinds: readonly RuleEventKind[]): string {
  return kinds.map((k) => `${k} (${EVT_TYPE_OF_KIND[k]})`).join(', ');
}
