import type { Event__Output } from '@mamori/proto';
import { EVENT_KINDS, type CompiledRule, type EventKind, type RuleSet } from './rule.js';

/** Rules to evaluate: compiled rules of any source, or a loaded rule set. */
export type RuleInput = readonly CompiledRule[] | Pick<RuleSet, 'rules'>;

export interface RuleEngineOptions {
  /**
   * Called when a rule's `matches` throws (the contract says it never does; a rule from
   * elsewhere might). The rule counts as not matching and evaluation goes on.
   * @default ignore
   */
  onRuleError?: (rule: CompiledRule, err: unknown) => void;
}

/** Evaluates events against rules indexed by event kind. */
export interface RuleEngine {
  /**
   * The rules that match `event`, in load order. The empty result is one shared frozen array:
   * an event no rule matches allocates nothing.
   */
  evaluate(event: Event__Output): readonly CompiledRule[];
  /** Replaces every rule at once; an evaluation in progress finishes on the old rules. */
  reload(rules: RuleInput): void;
  /** The rules offered events of `kind`. */
  rulesFor(kind: EventKind): readonly CompiledRule[];
  /** How many rules are loaded. */
  readonly size: number;
}

const NONE: readonly CompiledRule[] = Object.freeze([]);

type Check = (event: Event__Output) => boolean;

/** The rules of one kind, and the function that evaluates an event against all of them. */
interface KindRules {
  readonly rules: readonly CompiledRule[];
  readonly evaluate: Evaluator;
}

/** The rules that match, in order; undefined for none. */
type Evaluator = (
  event: Event__Output,
  onRuleError: RuleEngineOptions['onRuleError'],
) => CompiledRule[] | undefined;

// Above this many rules of a kind, one loop: a larger function is compiled later, or never.
const MAX_UNROLLED = 64;

/**
 * `quiet[i]`: the check is the rule's own per-kind function (`matcherFor`), and a throw from it
 * is a non-match by the contract, not an error of the rule.
 */
function loopOf(
  rules: readonly CompiledRule[],
  checks: readonly Check[],
  quiet: readonly boolean[],
): Evaluator {
  return (event, onRuleError) => {
    let matched: CompiledRule[] | undefined;
    for (let i = 0; i < checks.length; i++) {
      let hit: boolean;
      try {
        hit = (checks[i] as Check)(event);
      } catch (err) {
        if (quiet[i] !== true) onRuleError?.(rules[i] as CompiledRule, err);
        hit = false;
      }
      if (hit) (matched ??= []).push(rules[i] as CompiledRule);
    }
    return matched;
  };
}

/**
 * One function that calls each rule's check of a kind in turn, each from a call site of its own:
 * V8 then sees one target at each (and inlines the small ones), where a loop's single call site
 * sees every rule's function. The source holds only generated names; the checks and rules are
 * passed in as arguments.
 */
function evaluatorOf(
  rules: readonly CompiledRule[],
  checks: readonly Check[],
  quiet: readonly boolean[],
): Evaluator {
  if (checks.length > MAX_UNROLLED) return loopOf(rules, checks, quiet);
  const lines: string[] = [];
  for (let i = 0; i < checks.length; i++) {
    const report =
      quiet[i] === true ? '' : ` if (onRuleError !== undefined) onRuleError(r${i}, err);`;
    lines.push(
      `try { hit = c${i}(e); } catch (err) { hit = false;${report} }`,
      `if (hit) (matched ??= []).push(r${i});`,
    );
  }
  const params = [...checks.map((_, i) => `c${i}`), ...rules.map((_, i) => `r${i}`)];
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- only generated names in the source; the rules and their checks are arguments
  const factory = new Function(
    ...params,
    `'use strict';\nreturn function evaluate(e, onRuleError) {\nlet matched, hit;\n${lines.join('\n')}\nreturn matched;\n};`,
  ) as (...args: unknown[]) => Evaluator;
  return factory(...checks, ...rules);
}

interface Index {
  readonly byKind: Readonly<Partial<Record<EventKind, KindRules>>>;
  readonly size: number;
}

const EMPTY_KIND: KindRules = Object.freeze({ rules: NONE, evaluate: () => undefined });

function buildIndex(input: RuleInput): Index {
  const rules = 'rules' in input ? input.rules : input;
  const byKind: Partial<Record<EventKind, KindRules>> = {};
  for (const kind of EVENT_KINDS) {
    const of: CompiledRule[] = [];
    const checks: Check[] = [];
    const quiet: boolean[] = [];
    for (const rule of rules) {
      // A rule listing a kind twice is still offered each event once.
      if (!rule.kinds.includes(kind)) continue;
      // Each rule's own function for the kind, called directly: not its `matches`, which
      // dispatches on the kind again from code every rule shares.
      const direct = rule.matcherFor?.(kind);
      of.push(rule);
      checks.push(direct ?? ((e) => rule.matches(e)));
      quiet.push(direct !== undefined);
    }
    byKind[kind] =
      of.length === 0
        ? EMPTY_KIND
        : Object.freeze({
            rules: Object.freeze(of),
            evaluate: evaluatorOf(of, checks, quiet),
          });
  }
  return { byKind, size: rules.length };
}

/**
 * An engine over `rules` from any source (Falco, Sigma, Mamori's own). Each event is offered
 * only to the rules of its payload kind.
 */
export function createRuleEngine(rules: RuleInput, options: RuleEngineOptions = {}): RuleEngine {
  const onRuleError = options.onRuleError;
  // One reference to an immutable index: reload() swaps it in one assignment, so an
  // evaluation sees either the old rules or the new ones, never a mix.
  let index = buildIndex(rules);
  return {
    evaluate(event) {
      const kind = event.payload;
      if (kind === undefined) return NONE;
      const of = index.byKind[kind];
      if (of === undefined) return NONE;
      return of.evaluate(event, onRuleError) ?? NONE;
    },
    reload(next) {
      index = buildIndex(next);
    },
    rulesFor(kind) {
      return index.byKind[kind]?.rules ?? NONE;
    },
    get size() {
      return index.size;
    },
  };
}
