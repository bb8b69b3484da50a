export {
  EVENT_KINDS,
  SEVERITIES,
  type CompiledRule,
  type EventKind,
  type RuleProblem,
  type RuleSet,
  type RuleSource,
  type Severity,
  type SkippedRule,
} from './rule.js';
export { compileLinearRegex, type LinearRegex } from './linear-regex.js';
