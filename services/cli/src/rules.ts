/**
 * `mamori rules check FILE… [--format json]` and
 * `mamori rules test [--rules FILE…] --events EVENTS.jsonl`: the rule engine on files of the
 * user's own, reading and writing text and JSON Lines (see DESIGN.md, "Commands that measure
 * the product").
 */
import { readFile } from 'node:fs/promises';
import { PROTO_LOADER_OPTIONS, protoType, type Event__Output } from '@mamori/proto';
import {
  createRuleEngine,
  loadBuiltinRules,
  loadRuleFiles,
  type RuleFile,
  type RuleSet,
} from '@mamori/rules';

/** Where the command writes and what it reads; the process's own in main.ts. */
export interface RulesIo {
  out(text: string): void;
  err(text: string): void;
  /** @throws Error when the file cannot be read. */
  readText(path: string): Promise<string>;
}

export const RULES_USAGE = `Usage:
  mamori rules check FILE… [--format text|json]
      compiles rule files (Falco's language or Sigma); prints problems as file:line: message
      and every rule that cannot run on Mamori's events with why. Exit 1 when a file has
      problems.
  mamori rules test [--rules FILE…] --events EVENTS.jsonl
      evaluates events (mamori.v1.Event as JSON, one a line) against the rules (Mamori's
      built-in rules when --rules is not given) and writes one alert a line.
`;

interface Parsed {
  positionals: string[];
  options: Map<string, string[]>;
}

/** `--name value…`: a flag takes the words after it up to the next flag. */
function parse(args: readonly string[]): Parsed {
  const positionals: string[] = [];
  const options = new Map<string, string[]>();
  let current: string[] = positionals;
  for (const arg of args) {
    if (arg.startsWith('--')) {
      const [name, inline] = arg.slice(2).split('=', 2) as [string, string | undefined];
      current = options.get(name) ?? [];
      options.set(name, current);
      if (inline !== undefined) current.push(inline);
    } else {
      current.push(arg);
    }
  }
  return { positionals, options };
}

async function readRuleFiles(paths: readonly string[], io: RulesIo): Promise<RuleFile[] | null> {
  const files: RuleFile[] = [];
  for (const path of paths) {
    try {
      files.push({ path, text: await io.readText(path) });
    } catch (err) {
      io.err(`${path}: cannot read: ${err instanceof Error ? err.message : String(err)}\n`);
      return null;
    }
  }
  return files;
}

function where(file: string | undefined, line: number | undefined): string {
  return file === undefined ? '' : line === undefined ? `${file}: ` : `${file}:${line}: `;
}

function printCheck(set: RuleSet, format: string, io: RulesIo): void {
  const total = set.rules.length + set.skipped.length;
  if (format === 'json') {
    const report = {
      rules: total,
      compiled: set.rules.length,
      skipped: set.skipped.map((s) => ({
        rule: s.rule,
        reason: s.reason,
        ...(s.field === undefined ? {} : { field: s.field }),
        ...(s.file === undefined ? {} : { file: s.file, line: s.line }),
      })),
      problems: set.problems,
    };
    io.out(`${JSON.stringify(report)}\n`);
    return;
  }
  for (const p of set.problems) io.out(`${p.file}:${p.line}: ${p.message}\n`);
  for (const s of set.skipped) {
    io.out(`${where(s.file, s.line)}rule "${s.rule}" skipped: ${s.reason}\n`);
  }
  io.out(
    `${total} rules: ${set.rules.length} compiled, ${set.skipped.length} skipped; ` +
      `${set.problems.length} problems\n`,
  );
}

const EVENT = protoType('mamori.v1.Event');

/** One line of EVENTS.jsonl as a consumer of the bus sees the event, or why it is not one. */
function eventOf(line: string): Event__Output | string {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch (err) {
    return `not JSON: ${err instanceof Error ? err.message : String(err)}`;
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    return 'not a JSON object';
  }
  const problem = EVENT.verify(json);
  if (problem !== null) return problem;
  return EVENT.toObject(EVENT.fromObject(json), PROTO_LOADER_OPTIONS) as Event__Output;
}

async function test(parsed: Parsed, io: RulesIo): Promise<number> {
  const eventsPath = parsed.options.get('events')?.[0];
  if (eventsPath === undefined) {
    io.err(`--events is required\n${RULES_USAGE}`);
    return 2;
  }
  const rulePaths = parsed.options.get('rules') ?? [];
  let set: RuleSet;
  if (rulePaths.length === 0) {
    set = loadBuiltinRules();
  } else {
    const files = await readRuleFiles(rulePaths, io);
    if (files === null) return 2;
    set = loadRuleFiles(files);
  }
  for (const p of set.problems) io.err(`${p.file}:${p.line}: ${p.message}\n`);
  let text: string;
  try {
    text = await io.readText(eventsPath);
  } catch (err) {
    io.err(`${eventsPath}: cannot read: ${err instanceof Error ? err.message : String(err)}\n`);
    return 2;
  }
  const engine = createRuleEngine(set);
  let bad = 0;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    const event = eventOf(line);
    if (typeof event === 'string') {
      bad++;
      io.err(`${eventsPath}:${i + 1}: ${event}\n`);
      continue;
    }
    for (const rule of engine.evaluate(event)) {
      const alert = {
        rule_id: rule.id,
        rule: rule.name,
        source: rule.source,
        priority: rule.priority,
        severity: rule.severity,
        tags: rule.tags,
        output: rule.render(event),
        event_id: event.id,
        observed_unix_micros: event.observed_unix_micros,
        line: i + 1,
        details: rule.details(event),
      };
      io.out(`${JSON.stringify(alert)}\n`);
    }
  }
  return bad > 0 ? 1 : 0;
}

/** Runs `mamori rules …` with the words after `rules`; resolves to the exit code. */
export async function runRulesCommand(args: readonly string[], io: RulesIo): Promise<number> {
  const [sub, ...rest] = args;
  const parsed = parse(rest);
  if (sub === 'check') {
    if (parsed.positionals.length === 0) {
      io.err(`rules check needs at least one file\n${RULES_USAGE}`);
      return 2;
    }
    const format = parsed.options.get('format')?.[0] ?? 'text';
    if (format !== 'text' && format !== 'json') {
      io.err(`--format must be text or json, not ${format}\n`);
      return 2;
    }
    const files = await readRuleFiles(parsed.positionals, io);
    if (files === null) return 2;
    const set = loadRuleFiles(files);
    printCheck(set, format, io);
    return set.problems.length > 0 ? 1 : 0;
  }
  if (sub === 'test') return test(parsed, io);
  io.err(RULES_USAGE);
  return sub === undefined || sub === 'help' || sub === '--help' ? 0 : 2;
}

/** The process's own streams and files. */
export const processRulesIo: RulesIo = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  readText: (path) => readFile(path, 'utf8'),
};
