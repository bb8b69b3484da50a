// Original file: mamori/v1/event.proto

import type { RuleInfo as _mamori_v1_RuleInfo, RuleInfo__Output as _mamori_v1_RuleInfo__Output } from '../../mamori/v1/RuleInfo.generated.js';
import type { SkippedRuleInfo as _mamori_v1_SkippedRuleInfo, SkippedRuleInfo__Output as _mamori_v1_SkippedRuleInfo__Output } from '../../mamori/v1/SkippedRuleInfo.generated.js';
import type { Long } from '@grpc/proto-loader';

/**
 * The rules a detector runs, published when it loads and reloads its rules to the rule catalog
 * topic (`mamori.detector.rules.v1`, compacted, keyed by the detector's consumer group): what
 * the API lists for admins to tune.
 */
export interface RuleCatalog {
  'group_id'?: (string);
  /**
   * When these rules were loaded, in microseconds since the Unix epoch.
   */
  'loaded_unix_micros'?: (number | string | Long);
  'rules'?: (_mamori_v1_RuleInfo)[];
  /**
   * Rules that were read but cannot run on Mamori's events, and why.
   */
  'skipped'?: (_mamori_v1_SkippedRuleInfo)[];
}

/**
 * The rules a detector runs, published when it loads and reloads its rules to the rule catalog
 * topic (`mamori.detector.rules.v1`, compacted, keyed by the detector's consumer group): what
 * the API lists for admins to tune.
 */
export interface RuleCatalog__Output {
  'group_id': (string);
  /**
   * When these rules were loaded, in microseconds since the Unix epoch.
   */
  'loaded_unix_micros': (number);
  'rules': (_mamori_v1_RuleInfo__Output)[];
  /**
   * Rules that were read but cannot run on Mamori's events, and why.
   */
  'skipped': (_mamori_v1_SkippedRuleInfo__Output)[];
}
