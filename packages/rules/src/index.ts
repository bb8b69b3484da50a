export {
  EVENT_KINDS,
  SEVERITIES,
  type CompiledRule,
  type EventKind,
  type RuleAction,
  type RuleProblem,
  type RuleSet,
  type RuleSource,
  type Severity,
  type SkippedRule,
} from './rule.js';
export { compileLinearRegex, type LinearRegex } from './linear-regex.js';
export { compileGlob, compilePathPrefixes } from './falco/match.js';
export { BUILTIN_RULES_PATH, loadBuiltinRules } from './builtin.js';
export {
  createRuleEngine,
  type RuleEngine,
  type RuleEngineOptions,
  type RuleInput,
} from './engine.js';
export {
  FALCO_ENGINE_VERSION,
  loadFalcoRules,
  type FalcoRuleFile,
  type LoadFalcoRulesOptions,
} from './falco/loader.js';
export { loadSigmaRules, type SigmaFile } from './sigma/load-sigma-rules.js';
export { loadRuleFiles, ruleLanguageOf, type RuleFile, type RuleLanguage } from './rule-files.js';
export { actionOfPolicyMode, compilePolicies, POLICY_PARTS, type PolicyPart } from './policy.js';
export { PolicyStore, policyVersion, type PolicyRecordOutcome } from './policy-store.js';
export {
  compileRuleException,
  type CompiledRuleException,
  type RuleExceptionSpec,
} from './falco/exceptions.js';
export {
  compileTuning,
  RuleTuningStore,
  ruleTuningKey,
  exceptionSpecOf,
  type CompiledTuning,
  type Suppression,
  type TuningKind,
} from './tuning.js';
