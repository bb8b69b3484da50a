import type { Event__Output } from '@mamori/proto';
import { LineCounter, isMap, isScalar, isSeq, parseDocument, type Document, type Node } from 'yaml';
import { isMamoriError } from '@mamori/common';
import type {
  CompiledRule,
  EventKind,
  RuleProblem,
  RuleSet,
  Severity,
  SkippedRule,
} from '../rule.js';
import type { ConditionNode } from './ast.js';
import {
  CompileError,
  compileCondition,
  compileOutput,
  createCompileCache,
  describeKinds,
  type CompileScope,
  type Matcher,
} from './compiler.js';
import { EVT_TYPE_OF_KIND, createFieldResolver, type RuleEventKind } from './fields.js';
import { exceptionsNode, type ExceptionDef } from './exceptions.js';
import { parseCondition } from './parser.js';

/** One rules file: its name (for messages) and its YAML text. */
export interface FalcoRuleFile {
  readonly path: string;
  readonly text: string;
}

export interface LoadFalcoRulesOptions {
  /** Id prefix and `source` of the compiled rules; `mamori` for Mamori's own rules. @default 'falco' */
  source?: 'falco' | 'mamori';
}

/**
 * The Falco rule-language version whose files this loader accepts as written (Falco's
 * stable rules file requires 0.57.0). Later files may use constructs added since;
 * such rules are skipped one by one, never the whole file.
 */
export const FALCO_ENGINE_VERSION = '0.57.0';

const PRIORITY_SEVERITY: Readonly<Record<string, Severity>> = {
  EMERGENCY: 'critical',
  ALERT: 'critical',
  CRITICAL: 'critical',
  ERROR: 'high',
  WARNING: 'medium',
  NOTICE: 'low',
  INFORMATIONAL: 'info',
  INFO: 'info',
  DEBUG: 'info',
};

/** Falco priority → Mamori severity; undefined for a name that is no Falco priority. */
export function severityOfPriority(priority: string): Severity | undefined {
  return PRIORITY_SEVERITY[priority.toUpperCase()];
}

const RULE_KEYS = new Set([
  'rule',
  'desc',
  'condition',
  'output',
  'priority',
  'source',
  'tags',
  'enabled',
  'exceptions',
  'append',
  'override',
  'warn_evttypes',
  'skip-if-unknown-filter',
  'capture',
  'capture_duration',
]);
const MACRO_KEYS = new Set(['macro', 'condition', 'append', 'override', 'source']);
const LIST_KEYS = new Set(['list', 'items', 'append', 'override', 'source']);
const RULE_APPENDABLE = new Set(['condition', 'output', 'desc', 'tags', 'exceptions']);
const RULE_REPLACEABLE = new Set([
  'condition',
  'output',
  'desc',
  'priority',
  'tags',
  'exceptions',
  'enabled',
  'warn_evttypes',
  'skip-if-unknown-filter',
  'capture',
  'capture_duration',
]);

interface Where {
  file: string;
  line: number;
}

interface RuleDef extends Where {
  name: string;
  desc?: string;
  condition?: string;
  output?: string;
  priority?: string;
  source: string;
  tags: string[];
  enabled: boolean;
  exceptions: ExceptionDef[];
}

interface MacroDef extends Where {
  condition: string;
}

interface ListDef extends Where {
  items: string[];
}

/** A rule file item: its keys with their lines and plain values. */
interface Item {
  line: number;
  values: Map<string, unknown>;
  lines: Map<string, number>;
}

class Loader {
  readonly problems: RuleProblem[] = [];
  readonly rules = new Map<string, RuleDef>();
  readonly macros = new Map<string, MacroDef>();
  readonly lists = new Map<string, ListDef>();

  problem(file: string, line: number, message: string): void {
    this.problems.push({ file, line, message });
  }

  loadFile(file: FalcoRuleFile): void {
    const lineCounter = new LineCounter();
    let doc: Document.Parsed;
    try {
      doc = parseDocument(file.text, { lineCounter, prettyErrors: false, uniqueKeys: true });
    } catch (err) {
      this.problem(file.path, 1, `not YAML: ${err instanceof Error ? err.message : String(err)}`);
      return;
    }
    const lineOf = (offset: number) => lineCounter.linePos(offset).line;
    const errorOffsets: number[] = [];
    for (const e of doc.errors) {
      this.problem(file.path, lineOf(e.pos[0]), `YAML: ${e.message.split('\n')[0] ?? e.message}`);
      errorOffsets.push(e.pos[0]);
    }
    const root = doc.contents;
    if (root === null) return;
    if (!isSeq(root)) {
      if (doc.errors.length === 0) {
        this.problem(file.path, lineOf(root.range[0]), 'a rules file is a YAML list of items');
      }
      return;
    }
    for (const node of root.items) {
      if (!isMap(node)) {
        const at = (node as Node | null)?.range?.[0] ?? 0;
        if (!errorOffsets.some((o) => o >= at)) {
          this.problem(file.path, lineOf(at), 'an item must be a map (rule, macro or list)');
        }
        continue;
      }
      const [start, , end] = node.range ?? [0, 0, 0];
      // An item that a YAML error falls into is not trusted: the error was reported, and the
      // other items still load.
      if (errorOffsets.some((o) => o >= start && o < end)) continue;
      const item: Item = { line: lineOf(start), values: new Map(), lines: new Map() };
      let ok = true;
      for (const pair of node.items) {
        if (!isScalar(pair.key)) {
          this.problem(file.path, item.line, 'item keys must be plain names');
          ok = false;
          break;
        }
        const key = String(pair.key.value);
        try {
          item.values.set(
            key,
            (pair.value as Node | null)?.toJS(doc, { maxAliasCount: 100 }) ?? null,
          );
        } catch (err) {
          this.problem(
            file.path,
            lineOf(pair.key.range?.[0] ?? start),
            `${key}: ${err instanceof Error ? err.message : String(err)}`,
          );
          ok = false;
          break;
        }
        item.lines.set(
          key,
          lineOf((pair.value as Node | null)?.range?.[0] ?? pair.key.range?.[0] ?? start),
        );
      }
      if (ok) this.loadItem(file.path, item);
    }
  }

  private loadItem(file: string, item: Item): void {
    const v = item.values;
    if (v.has('rule')) this.loadRule(file, item);
    else if (v.has('macro')) this.loadMacro(file, item);
    else if (v.has('list')) this.loadList(file, item);
    else if (v.has('required_engine_version')) this.checkEngineVersion(file, item);
    else if (v.has('required_plugin_versions')) this.checkPluginVersions(file, item);
    else {
      const keys = [...v.keys()].join(', ') || 'no keys';
      this.problem(
        file,
        item.line,
        `unknown item (${keys}): expected rule, macro, list, required_engine_version or required_plugin_versions`,
      );
    }
  }

  private unknownKeys(file: string, item: Item, allowed: ReadonlySet<string>, what: string): void {
    for (const key of item.values.keys()) {
      if (!allowed.has(key))
        this.problem(file, item.lines.get(key) ?? item.line, `unknown key ${key} in ${what}`);
    }
  }

  /** The override map of an item, validated; undefined when the item has none. */
  private overrides(
    file: string,
    item: Item,
    what: string,
    appendable: ReadonlySet<string>,
    replaceable: ReadonlySet<string>,
  ): Map<string, 'append' | 'replace'> | undefined | null {
    const raw = item.values.get('override');
    if (raw === undefined) return undefined;
    const line = item.lines.get('override') ?? item.line;
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
      this.problem(file, line, `override of ${what} must map keys to append or replace`);
      return null;
    }
    if (item.values.get('append') === true) {
      this.problem(file, line, `${what} uses both append and override`);
      return null;
    }
    const out = new Map<string, 'append' | 'replace'>();
    for (const [key, how] of Object.entries(raw as Record<string, unknown>)) {
      if (how !== 'append' && how !== 'replace') {
        this.problem(file, line, `override of ${key} in ${what} must be append or replace`);
        return null;
      }
      if (!(how === 'append' ? appendable : replaceable).has(key)) {
        this.problem(
          file,
          line,
          `${key} of ${what} cannot be ${how === 'append' ? 'appended' : 'replaced'}`,
        );
        return null;
      }
      if (!item.values.has(key)) {
        this.problem(file, line, `override names ${key} but ${what} does not give it`);
        return null;
      }
      out.set(key, how);
    }
    for (const key of item.values.keys()) {
      const nameKey = key === 'rule' || key === 'macro' || key === 'list';
      if (!nameKey && key !== 'override' && !out.has(key)) {
        this.problem(
          file,
          item.lines.get(key) ?? line,
          `${key} of ${what} is given without saying in override whether to append or replace it`,
        );
      }
    }
    return out;
  }

  private str(file: string, item: Item, key: string, what: string): string | undefined {
    const value = item.values.get(key);
    if (value === undefined || value === null) return undefined;
    if (typeof value === 'string') return value;
    if (typeof value === 'number' || typeof value === 'boolean') return String(value);
    this.problem(file, item.lines.get(key) ?? item.line, `${key} of ${what} must be text`);
    return undefined;
  }

  private strings(file: string, item: Item, key: string, what: string): string[] | undefined {
    const value = item.values.get(key);
    if (value === undefined || value === null) return undefined;
    if (
      Array.isArray(value) &&
      value.every((x) => ['string', 'number', 'boolean'].includes(typeof x))
    ) {
      return value.map(String);
    }
    this.problem(
      file,
      item.lines.get(key) ?? item.line,
      `${key} of ${what} must be a list of values`,
    );
    return undefined;
  }

  private exceptions(file: string, item: Item, what: string): ExceptionDef[] | undefined {
    const raw = item.values.get('exceptions');
    if (raw === undefined || raw === null) return undefined;
    const line = item.lines.get('exceptions') ?? item.line;
    if (!Array.isArray(raw)) {
      this.problem(file, line, `exceptions of ${what} must be a list`);
      return undefined;
    }
    const out: ExceptionDef[] = [];
    for (const e of raw as unknown[]) {
      if (
        e === null ||
        typeof e !== 'object' ||
        Array.isArray(e) ||
        typeof (e as { name?: unknown }).name !== 'string'
      ) {
        this.problem(file, line, `each exception of ${what} needs a name`);
        continue;
      }
      const ex = e as Record<string, unknown>;
      for (const key of Object.keys(ex)) {
        if (!['name', 'fields', 'comps', 'values'].includes(key))
          this.problem(file, line, `unknown key ${key} in exception ${String(ex.name)} of ${what}`);
      }
      const values = ex.values ?? [];
      if (!Array.isArray(values)) {
        this.problem(
          file,
          line,
          `values of exception ${String(ex.name)} in ${what} must be a list`,
        );
        continue;
      }
      out.push({
        name: ex.name as string,
        fields: ex.fields,
        comps: ex.comps,
        values: values as unknown[],
      });
    }
    return out;
  }

  private loadRule(file: string, item: Item): void {
    const name = this.str(file, item, 'rule', 'a rule');
    if (name === undefined || name === '') {
      this.problem(file, item.line, 'a rule needs a name');
      return;
    }
    const what = `rule ${name}`;
    this.unknownKeys(file, item, RULE_KEYS, what);
    const v = item.values;
    const existing = this.rules.get(name);
    const override = this.overrides(file, item, what, RULE_APPENDABLE, RULE_REPLACEABLE);
    if (override === null) return;
    const enabledRaw = v.get('enabled');
    if (enabledRaw !== undefined && typeof enabledRaw !== 'boolean') {
      this.problem(
        file,
        item.lines.get('enabled') ?? item.line,
        `enabled of ${what} must be true or false`,
      );
      return;
    }
    const append = v.get('append') === true;
    if (override !== undefined || append) {
      if (existing === undefined) {
        this.problem(
          file,
          item.line,
          `${what} ${append ? 'appends to' : 'overrides'} a rule that is not defined before it`,
        );
        return;
      }
      const how = (key: string): 'append' | 'replace' | undefined =>
        override !== undefined
          ? override.get(key)
          : v.has(key)
            ? ['condition', 'exceptions'].includes(key)
              ? 'append'
              : 'replace'
            : undefined;
      if (append) {
        for (const key of v.keys()) {
          if (!['rule', 'append', 'condition', 'exceptions', 'enabled', 'source'].includes(key)) {
            this.problem(
              file,
              item.lines.get(key) ?? item.line,
              `${key} cannot be appended to ${what} (append: true takes condition and exceptions)`,
            );
          }
        }
      }
      this.applyText(
        existing,
        'condition',
        how('condition'),
        this.str(file, item, 'condition', what),
      );
      this.applyText(existing, 'output', how('output'), this.str(file, item, 'output', what));
      this.applyText(existing, 'desc', how('desc'), this.str(file, item, 'desc', what));
      if (how('priority') === 'replace') existing.priority = this.str(file, item, 'priority', what);
      if (how('enabled') !== undefined && typeof enabledRaw === 'boolean')
        existing.enabled = enabledRaw;
      const tags = this.strings(file, item, 'tags', what);
      if (tags !== undefined) {
        if (how('tags') === 'append') existing.tags = [...new Set([...existing.tags, ...tags])];
        else if (how('tags') === 'replace') existing.tags = tags;
      }
      const exceptions = this.exceptions(file, item, what);
      if (exceptions !== undefined) {
        if (how('exceptions') === 'replace') existing.exceptions = exceptions;
        else if (how('exceptions') === 'append')
          existing.exceptions = mergeExceptions(existing.exceptions, exceptions);
      }
      return;
    }
    const definitionKeys = ['condition', 'output', 'desc', 'priority'];
    if (!definitionKeys.some((k) => v.has(k)) && v.has('enabled')) {
      // The legacy way to switch a rule on or off: only its name and `enabled`.
      if (existing === undefined) {
        this.problem(
          file,
          item.line,
          `${what} enables or disables a rule that is not defined before it`,
        );
        return;
      }
      existing.enabled = enabledRaw as boolean;
      return;
    }
    const def: RuleDef = {
      name,
      file,
      line: item.line,
      source: this.str(file, item, 'source', what) ?? 'syscall',
      tags: this.strings(file, item, 'tags', what) ?? [],
      enabled: enabledRaw === undefined ? true : enabledRaw,
      exceptions: this.exceptions(file, item, what) ?? [],
    };
    const condition = this.str(file, item, 'condition', what);
    const output = this.str(file, item, 'output', what);
    const desc = this.str(file, item, 'desc', what);
    const priority = this.str(file, item, 'priority', what);
    if (condition !== undefined) def.condition = condition;
    if (output !== undefined) def.output = output;
    if (desc !== undefined) def.desc = desc;
    if (priority !== undefined) def.priority = priority;
    // A later definition replaces an earlier one, as a later file overrides Falco's defaults.
    this.rules.set(name, def);
  }

  private applyText(
    def: RuleDef,
    key: 'condition' | 'output' | 'desc',
    how: 'append' | 'replace' | undefined,
    value: string | undefined,
  ): void {
    if (how === undefined || value === undefined) return;
    const old = def[key];
    def[key] = how === 'append' && old !== undefined ? `${old} ${value}` : value;
  }

  private loadMacro(file: string, item: Item): void {
    const name = this.str(file, item, 'macro', 'a macro');
    if (name === undefined || name === '') {
      this.problem(file, item.line, 'a macro needs a name');
      return;
    }
    const what = `macro ${name}`;
    this.unknownKeys(file, item, MACRO_KEYS, what);
    const condition = this.str(file, item, 'condition', what);
    if (condition === undefined) {
      this.problem(file, item.line, `${what} has no condition`);
      return;
    }
    const override = this.overrides(
      file,
      item,
      what,
      new Set(['condition']),
      new Set(['condition']),
    );
    if (override === null) return;
    const append = override?.get('condition') === 'append' || item.values.get('append') === true;
    const existing = this.macros.get(name);
    if (append || override !== undefined) {
      if (existing === undefined) {
        this.problem(
          file,
          item.line,
          `${what} ${append ? 'appends to' : 'overrides'} a macro that is not defined before it`,
        );
        return;
      }
      existing.condition = append ? `${existing.condition} ${condition}` : condition;
      return;
    }
    this.macros.set(name, { file, line: item.lines.get('condition') ?? item.line, condition });
  }

  private loadList(file: string, item: Item): void {
    const name = this.str(file, item, 'list', 'a list');
    if (name === undefined || name === '') {
      this.problem(file, item.line, 'a list needs a name');
      return;
    }
    const what = `list ${name}`;
    this.unknownKeys(file, item, LIST_KEYS, what);
    const items = item.values.get('items') === null ? [] : this.strings(file, item, 'items', what);
    if (items === undefined) {
      if (!item.values.has('items')) this.problem(file, item.line, `${what} has no items`);
      return;
    }
    const override = this.overrides(file, item, what, new Set(['items']), new Set(['items']));
    if (override === null) return;
    const append = override?.get('items') === 'append' || item.values.get('append') === true;
    const existing = this.lists.get(name);
    if (append || override !== undefined) {
      if (existing === undefined) {
        this.problem(
          file,
          item.line,
          `${what} ${append ? 'appends to' : 'overrides'} a list that is not defined before it`,
        );
        return;
      }
      existing.items = append ? [...existing.items, ...items] : items;
      return;
    }
    this.lists.set(name, { file, line: item.line, items });
  }

  private checkEngineVersion(file: string, item: Item): void {
    const raw = item.values.get('required_engine_version');
    const line = item.lines.get('required_engine_version') ?? item.line;
    // Before semantic versions, Falco numbered its engine 1, 2, …: number N is 0.N.0.
    const text = typeof raw === 'number' ? `0.${raw}.0` : typeof raw === 'string' ? raw : undefined;
    const wanted = text === undefined ? undefined : parseVersion(text);
    if (wanted === undefined) {
      this.problem(
        file,
        line,
        `required_engine_version must be a version such as ${FALCO_ENGINE_VERSION}`,
      );
      return;
    }
    if (compareVersions(wanted, parseVersion(FALCO_ENGINE_VERSION) ?? [0, 0, 0]) > 0) {
      this.problem(
        file,
        line,
        `requires Falco engine ${text}; Mamori implements ${FALCO_ENGINE_VERSION}, so rules using newer constructs are skipped`,
      );
    }
  }

  private checkPluginVersions(file: string, item: Item): void {
    const raw = item.values.get('required_plugin_versions');
    const line = item.lines.get('required_plugin_versions') ?? item.line;
    const valid =
      Array.isArray(raw) &&
      raw.every(
        (p: unknown) =>
          p !== null &&
          typeof p === 'object' &&
          typeof (p as { name?: unknown }).name === 'string' &&
          ['string', 'number'].includes(typeof (p as { version?: unknown }).version),
      );
    // Plugins matter only for their event sources, whose rules are skipped; `container`'s
    // fields are Mamori's own workload fields.
    if (!valid) this.problem(file, line, 'required_plugin_versions must list { name, version }');
  }
}

function parseVersion(text: string): [number, number, number] | undefined {
  const m = /^([0-9]{1,6})\.([0-9]{1,6})\.([0-9]{1,6})$/.exec(text.trim());
  return m === null ? undefined : [Number(m[1]), Number(m[2]), Number(m[3])];
}

function compareVersions(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < 3; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** Appended exceptions add values to an exception of the same name, or add the exception. */
function mergeExceptions(
  old: readonly ExceptionDef[],
  added: readonly ExceptionDef[],
): ExceptionDef[] {
  const out = old.map((e) => ({ ...e, values: [...e.values] }));
  for (const e of added) {
    const same = out.find((o) => o.name === e.name);
    if (same === undefined) out.push({ ...e, values: [...e.values] });
    else same.values.push(...e.values);
  }
  return out;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Loads Falco rule files, in order (later files override earlier ones, as in Falco), and
 * compiles their syscall rules for Mamori's events. Never throws on file content: YAML errors
 * and malformed items become `problems`; rules that cannot run become `skipped`, with why.
 */
export function loadFalcoRules(
  files: readonly FalcoRuleFile[],
  options: LoadFalcoRulesOptions = {},
): RuleSet {
  const source = options.source ?? 'falco';
  const loader = new Loader();
  for (const file of files) loader.loadFile(file);

  const fields = createFieldResolver();
  const parsedMacros = new Map<string, ConditionNode | CompileError>();
  for (const [name, def] of loader.macros) {
    try {
      parsedMacros.set(name, parseCondition(def.condition));
    } catch (err) {
      const message = isMamoriError(err) ? err.message : errorMessage(err);
      parsedMacros.set(
        name,
        new CompileError(`macro ${name} has a syntax error: ${message}`, name, true),
      );
      loader.problem(def.file, def.line, `macro ${name}: ${message}`);
    }
  }
  const scope: CompileScope = {
    fields,
    cache: createCompileCache(),
    macro(name) {
      const m = parsedMacros.get(name);
      if (m instanceof CompileError) throw m;
      return m;
    },
    list: (name) => loader.lists.get(name)?.items,
  };

  const rules: CompiledRule[] = [];
  const skipped: SkippedRule[] = [];
  for (const def of loader.rules.values()) {
    /** `error`: the rule itself is wrong (not only beyond Mamori's events): also a problem. */
    const skip = (reason: string, field?: string, error = false) => {
      if (error) loader.problem(def.file, def.line, `rule ${def.name}: ${reason}`);
      skipped.push({
        rule: def.name,
        reason,
        ...(field === undefined ? {} : { field }),
        file: def.file,
        line: def.line,
      });
    };
    if (!def.enabled) {
      skip('disabled (enabled: false)');
      continue;
    }
    if (def.source !== 'syscall') {
      skip(
        `source ${def.source}: Mamori evaluates Falco rules of the syscall source only`,
        'source',
      );
      continue;
    }
    const missing = (['condition', 'output', 'priority'] as const).find(
      (k) => def[k] === undefined,
    );
    if (
      missing !== undefined ||
      def.condition === undefined ||
      def.output === undefined ||
      def.priority === undefined
    ) {
      skip(`the rule has no ${missing ?? 'condition'}`, missing, true);
      continue;
    }
    const severity = severityOfPriority(def.priority);
    if (severity === undefined) {
      skip(
        `priority ${def.priority} is not a Falco priority (EMERGENCY … DEBUG)`,
        'priority',
        true,
      );
      continue;
    }
    let condition: ConditionNode;
    try {
      condition = parseCondition(def.condition);
    } catch (err) {
      skip(`condition: ${errorMessage(err)}`, 'condition', true);
      continue;
    }
    let compiled;
    try {
      const except = exceptionsNode(def.exceptions);
      if (except !== undefined)
        condition = { type: 'and', children: [condition, { type: 'not', child: except }] };
      compiled = compileCondition(condition, scope);
    } catch (err) {
      if (err instanceof CompileError) skip(err.message, err.field, err.structural);
      else skip(`cannot compile: ${errorMessage(err)}`, undefined, true);
      continue;
    }
    if (compiled.kinds.length === 0) {
      const first = compiled.unavailable[0];
      if (first !== undefined) {
        skip(`${first.field}: ${first.reason}`, first.field);
        continue;
      }
      const known = new Set(Object.values(EVT_TYPE_OF_KIND));
      const types = [...compiled.eventTypes];
      if (types.length > 0 && !types.some((t) => known.has(t))) {
        skip(`Mamori has no events that Falco calls ${types.join(', ')} (evt.type)`, 'evt.type');
      } else {
        skip(
          `the condition cannot hold on any of Mamori's events (${describeKinds([...Object.keys(EVT_TYPE_OF_KIND)] as RuleEventKind[])})`,
        );
      }
      continue;
    }
    for (const u of compiled.unavailable) {
      loader.problem(
        def.file,
        def.line,
        `rule ${def.name} does not run on ${u.kind} events: ${u.field}: ${u.reason}`,
      );
    }
    // Folded YAML blocks (`output: >`) end with a newline, which Falco does not print.
    const output = compileOutput(def.output.trim(), fields);
    rules.push(
      makeRule({
        id: `${source}:${def.name}`,
        name: def.name,
        source,
        priority: def.priority,
        severity,
        tags: def.tags,
        kinds: compiled.kinds,
        file: def.file,
        line: def.line,
        matchers: compiled.matchers,
        output,
      }),
    );
  }
  return { rules, skipped, problems: loader.problems };
}

interface RuleParts {
  id: string;
  name: string;
  source: 'falco' | 'mamori';
  priority: string;
  severity: Severity;
  tags: readonly string[];
  kinds: readonly RuleEventKind[];
  file: string;
  line: number;
  matchers: Partial<Record<RuleEventKind, Matcher>>;
  output: ReturnType<typeof compileOutput>;
}

function makeRule(p: RuleParts): CompiledRule {
  const byKind: Partial<Record<string, Matcher>> = p.matchers;
  const { output } = p;
  return Object.freeze({
    id: p.id,
    name: p.name,
    source: p.source,
    priority: p.priority,
    severity: p.severity,
    tags: Object.freeze([...p.tags]),
    kinds: Object.freeze([...p.kinds]),
    file: p.file,
    line: p.line,
    matches(event: Event__Output): boolean {
      const kind = event.payload;
      if (kind === undefined) return false;
      const m = byKind[kind];
      if (m === undefined) return false;
      try {
        return m(event);
      } catch {
        // An event missing what its decoder would always set (a hand-built object) is no match.
        return false;
      }
    },
    matcherFor(kind: EventKind): Matcher | undefined {
      // The generated function itself: the engine calls it directly, one target per call.
      return byKind[kind];
    },
    render(event: Event__Output): string {
      try {
        return output.render(event);
      } catch {
        return p.name;
      }
    },
    details(event: Event__Output): Record<string, string> {
      try {
        return output.details(event);
      } catch {
        return {};
      }
    },
  });
}
