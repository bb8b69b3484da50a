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

interface Index {
  readonly byKind: Readonly<Partial<Record<EventKind, readonly CompiledRule[]>>>;
  readonly size: number;
}

function buildIndex(input: RuleInput): Index {
  const rules = 'rules' in input ? input.rules : input;
  const byKind: Partial<Record<EventKind, CompiledRule[]>> = {};
  for (const kind of EVENT_KINDS) byKind[kind] = [];
  for (const rule of rules) {
    // A rule listing a kind twice is still offered each event once.
    for (const kind of new Set(rule.kinds)) byKind[kind]?.push(rule);
  }
  for (const kind of EVENT_KINDS) Object.freeze(byKind[kind]);
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
      const candidates = index.byKind[kind];
      if (candidates === undefined) return NONE;
      let matched: CompiledRule[] | undefined;
      for (let i = 0; i < candidates.length; i++) {
        const rule = candidates[i] as CompiledRule;
        let hit: boolean;
        try {
          hit = rule.matches(event);
        } catch (err) {
          onRuleError?.(rule, err);
          hit = false;
        }
        if (hit) (matched ??= []).push(rule);
      }
      return matched ?? NONE;
    },
    reload(next) {
      index = buildIndex(next);
    },
    rulesFor(kind) {
      return index.byKind[kind] ?? NONE;
    },
    get size() {
      return index.size;
    },
  };
}
