/**
 * Rule evaluation on one thread: Falco's stable rules and Mamori's built-ins over a realistic
 * mix of decoded events, as the detector runs them. Prints one JSON object on its last line.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Event__Output } from '@mamori/proto';
import {
  createRuleEngine,
  loadBuiltinRules,
  loadRuleFiles,
  type CompiledRule,
  type RuleSet,
} from '@mamori/rules';
import { positive, runMain } from '../support/args.js';
import { REPO_ROOT } from '../support/paths.js';
import {
  ATTACK_SHARE,
  RULE_EVENT_DECODERS,
  RULES_EVENT_MIX,
  buildRuleEvents,
  type RuleEventDecoder,
} from './events.js';

/** Falco's stable rules, where the shared corpora are checked out beside the repository. */
const DEFAULT_RULES = join(REPO_ROOT, '..', 'shared', 'corpora', 'falco', 'falco_rules.yaml');

const USAGE = `npm run bench:rules -- [options]

Evaluates rules over pre-built, decoded events on this one thread (no bus, no I/O while
timing) and prints events per second, alerts, and the time per event of each kind.

  --rules FILE…   Falco or Sigma rule files (default: Falco's stable rules at
                  ../shared/corpora/falco/falco_rules.yaml from the repository root, when
                  that file exists; without it, pass --rules)
  --no-builtin    leave out Mamori's built-in rules
  --events N      distinct events, built and decoded before timing (default 100000)
  --decoder D     wire: decodeEvent, as the detector decodes (default); codec: the bus
                  codec (protobufjs), whose objects are larger and of varying shapes
  --seconds S     how long the timed loop runs (default 10)
`;

// Time checks cost a syscall; one every this many events keeps them below 0.1 % of a run.
const CHECK_EVERY = 4096;
// Evaluations before timing, so that the timed loop runs optimized code.
const WARMUP_PASSES = 3;

interface Options {
  rules: string[];
  defaultRules: boolean;
  builtin: boolean;
  events: number;
  decoder: RuleEventDecoder;
  seconds: number;
}

function readOptions(): Options | undefined {
  const { values } = parseArgs({
    options: {
      rules: { type: 'string', multiple: true },
      'no-builtin': { type: 'boolean', default: false },
      events: { type: 'string', default: '100000' },
      decoder: { type: 'string', default: 'wire' },
      seconds: { type: 'string', default: '10' },
      help: { type: 'boolean', default: false },
    },
    allowPositionals: false,
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return undefined;
  }
  const given = values.rules ?? [];
  const decoder = values.decoder as RuleEventDecoder;
  if (!RULE_EVENT_DECODERS.includes(decoder)) {
    throw new Error(`--decoder: expected ${RULE_EVENT_DECODERS.join(' or ')}, got ${decoder}`);
  }
  return {
    rules:
      given.length > 0
        ? given.map((f) => resolve(f))
        : existsSync(DEFAULT_RULES)
          ? [DEFAULT_RULES]
          : [],
    defaultRules: given.length === 0,
    builtin: !values['no-builtin'],
    events: positive('events', values.events),
    decoder,
    seconds: positive('seconds', values.seconds),
  };
}

function loadRules(options: Options): { set: RuleSet; files: string[] } {
  const files = options.rules.map((path) => ({ path, text: readFileSync(path, 'utf8') }));
  const sets: RuleSet[] = files.length > 0 ? [loadRuleFiles(files)] : [];
  const loaded = files.map((f) => f.path);
  if (options.builtin) {
    sets.push(loadBuiltinRules());
    loaded.push('builtin:mamori_rules.yaml');
  }
  return {
    set: {
      rules: sets.flatMap((s) => s.rules),
      skipped: sets.flatMap((s) => s.skipped),
      problems: sets.flatMap((s) => s.problems),
    },
    files: loaded,
  };
}

/** Evaluates `events` round and round for `seconds`; returns evaluations, alerts and time. */
function timedLoop(
  evaluate: (event: Event__Output) => readonly CompiledRule[],
  events: readonly Event__Output[],
  seconds: number,
): { evaluated: number; alerts: number; ns: number } {
  const budget = BigInt(Math.round(seconds * 1e9));
  const start = process.hrtime.bigint();
  let now = start;
  let evaluated = 0;
  let alerts = 0;
  let i = 0;
  const n = events.length;
  while (now - start < budget) {
    for (let k = 0; k < CHECK_EVERY; k++) {
      alerts += evaluate(events[i] as Event__Output).length;
      if (++i === n) i = 0;
    }
    evaluated += CHECK_EVERY;
    now = process.hrtime.bigint();
  }
  return { evaluated, alerts, ns: Number(now - start) };
}

function main(): void {
  const options = readOptions();
  if (options === undefined) return;
  if (options.rules.length === 0 && !options.builtin) {
    throw new Error(`no rules: ${DEFAULT_RULES} does not exist; pass --rules FILE…`);
  }
  const loadStart = performance.now();
  const { set, files } = loadRules(options);
  const loadMs = performance.now() - loadStart;
  const engine = createRuleEngine(set);

  const buildStart = performance.now();
  const events = buildRuleEvents(options.events, options.decoder);
  const buildMs = performance.now() - buildStart;

  // Which rules the events fire, and how many events fire any (outside the timing).
  const firedBy = new Map<string, number>();
  let alertingEvents = 0;
  for (let pass = 0; pass < WARMUP_PASSES; pass++) {
    for (const event of events) {
      const fired = engine.evaluate(event);
      if (pass > 0) continue;
      if (fired.length > 0) alertingEvents++;
      for (const rule of fired) firedBy.set(rule.id, (firedBy.get(rule.id) ?? 0) + 1);
    }
  }

  const run = timedLoop((e) => engine.evaluate(e), events, options.seconds);

  // Per kind: the events of one kind on their own, a share of the time each.
  const byKind = new Map<string, Event__Output[]>();
  for (const event of events) {
    const kind = event.payload ?? 'none';
    let list = byKind.get(kind);
    if (list === undefined) byKind.set(kind, (list = []));
    list.push(event);
  }
  const nsPerEvent: Record<string, number> = {};
  const kindSeconds = Math.max(0.5, options.seconds / 10);
  for (const [kind, list] of byKind) {
    const r = timedLoop((e) => engine.evaluate(e), list, kindSeconds);
    nsPerEvent[kind] = Math.round(r.ns / r.evaluated);
  }

  const rules: Record<string, number> = {};
  for (const rule of set.rules) rules[rule.source] = (rules[rule.source] ?? 0) + 1;
  const seconds = run.ns / 1e9;
  const report = {
    benchmark: 'rules',
    eventsPerSecond: Math.round(run.evaluated / seconds),
    nsPerEventMixed: Math.round(run.ns / run.evaluated),
    evaluated: run.evaluated,
    seconds: Math.round(seconds * 100) / 100,
    alerts: run.alerts,
    alertsPerSecond: Math.round(run.alerts / seconds),
    alertingEventShare: Math.round((alertingEvents / events.length) * 10_000) / 10_000,
    nsPerEvent,
    rules: { ...rules, total: set.rules.length, skipped: set.skipped.length },
    ruleFiles: files,
    ...(options.defaultRules
      ? options.rules.length > 0
        ? { note: 'default rule file; pass --rules FILE… for others' }
        : { note: `${DEFAULT_RULES} not found: built-in rules only; pass --rules FILE…` }
      : {}),
    firedRules: Object.fromEntries([...firedBy].sort((a, b) => b[1] - a[1])),
    events: options.events,
    decoder: options.decoder,
    mix: { ...RULES_EVENT_MIX, attacksOneIn: ATTACK_SHARE },
    loadMs: Math.round(loadMs),
    buildEventsMs: Math.round(buildMs),
    node: process.version,
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

// A promise, so that runMain reports a thrown error as a failure line.
runMain('bench:rules', () => Promise.resolve().then(main));
