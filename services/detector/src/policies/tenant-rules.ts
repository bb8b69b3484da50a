import type { Event__Output, Policy__Output } from '@mamori/proto';
import {
  compilePolicies,
  createRuleEngine,
  type CompiledRule,
  type RuleAction,
  type RuleEngine,
  type RuleProblem,
  type SkippedRule,
} from '@mamori/rules';

/** What compiling a tenant's policies gave. */
export interface TenantCompiled {
  rules: number;
  problems: readonly RuleProblem[];
  skipped: readonly SkippedRule[];
}

/**
 * The rules of every tenant's runtime policies, each tenant in an engine of its own: rule ids
 * are unique per tenant only, and an event is only ever evaluated against its own tenant's
 * rules. Pure: whoever follows the policies topic calls `set` with a tenant's whole set.
 */
export interface TenantPolicyRules {
  /** Compiles the tenant's complete set and replaces its rules at once; empty removes them. */
  set(tenant: string, policies: readonly Policy__Output[]): TenantCompiled;
  /** The policy rules of the event's tenant that match it. */
  evaluate(event: Event__Output): readonly CompiledRule[];
  /** Whether some tenant has a policy rule on events of this kind. */
  hasKind(kind: string): boolean;
  /** Policy rules running now, over all tenants. */
  readonly size: number;
}

export interface TenantPolicyRulesOptions {
  /** A rule threw on an event (it counts as no match). */
  onRuleError?: (tenant: string, rule: CompiledRule, err: unknown) => void;
}

const NONE: readonly CompiledRule[] = Object.freeze([]);

/** The tag of a policy's alerts, naming the policy. */
export function policyTag(policyId: string): string {
  return `policy:${policyId}`;
}

/** A policy's rule with the policy's tag, so that its alerts name the policy. */
function tagged(rule: CompiledRule, policyId: string): CompiledRule {
  const action: RuleAction = rule.action ?? 'alert';
  return Object.freeze({
    ...rule,
    tags: Object.freeze([...rule.tags, policyTag(policyId)]),
    details: (event: Event__Output) => ({ ...rule.details(event), 'policy.action': action }),
  });
}

/** Every tenant's policy rules, none at first. */
export function createTenantPolicyRules(options: TenantPolicyRulesOptions = {}): TenantPolicyRules {
  const engines = new Map<string, { engine: RuleEngine; kinds: Set<string> }>();
  /** Per event kind, how many tenants have a rule on it. */
  const kindTenants = new Map<string, number>();
  const count = (kinds: Iterable<string>, by: 1 | -1): void => {
    for (const kind of kinds) {
      const n = (kindTenants.get(kind) ?? 0) + by;
      if (n <= 0) kindTenants.delete(kind);
      else kindTenants.set(kind, n);
    }
  };
  let size = 0;

  return {
    set(tenant, policies) {
      const rules: CompiledRule[] = [];
      const problems: RuleProblem[] = [];
      const skipped: SkippedRule[] = [];
      // One policy at a time, so that each rule is tagged with its own policy's id.
      for (const policy of policies) {
        const compiled = compilePolicies([policy]);
        problems.push(...compiled.problems);
        skipped.push(...compiled.skipped);
        for (const rule of compiled.rules) rules.push(tagged(rule, policy.id));
      }
      const before = engines.get(tenant);
      if (before) {
        count(before.kinds, -1);
        size -= before.engine.size;
        engines.delete(tenant);
      }
      if (rules.length > 0) {
        const engine = createRuleEngine(rules, {
          onRuleError: (rule, err) => options.onRuleError?.(tenant, rule, err),
        });
        const kinds = new Set<string>(rules.flatMap((rule) => rule.kinds));
        engines.set(tenant, { engine, kinds });
        count(kinds, 1);
        size += engine.size;
      }
      return { rules: rules.length, problems, skipped };
    },
    evaluate(event) {
      return engines.get(event.tenant_id)?.engine.evaluate(event) ?? NONE;
    },
    hasKind: (kind) => kindTenants.has(kind),
    get size() {
      return size;
    },
  };
}
