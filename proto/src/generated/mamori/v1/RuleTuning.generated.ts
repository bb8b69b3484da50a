// Original file: mamori/v1/event.proto

import type { RuleException as _mamori_v1_RuleException, RuleException__Output as _mamori_v1_RuleException__Output } from '../../mamori/v1/RuleException.generated.js';
import type { RuleSetting as _mamori_v1_RuleSetting, RuleSetting__Output as _mamori_v1_RuleSetting__Output } from '../../mamori/v1/RuleSetting.generated.js';
import type { Long } from '@grpc/proto-loader';

/**
 * Detection tuning of one tenant, written by the API (admins only) to the rule tuning topic
 * (`mamori.rule-tuning.v1`, compacted, keyed "<tenant_id>/exception/<id>" or
 * "<tenant_id>/setting/<rule>") and read from its beginning by every detector, which applies a
 * change to the next batch it evaluates: no restart. The last record per key wins; a record
 * with `deleted` set is a tombstone (a value, not Kafka's null, so compaction cannot drop the
 * deletion before readers have seen it).
 */
export interface RuleTuning {
  /**
   * Equals the tenant of the record key; written by the API from the caller's credential.
   */
  'tenant_id'?: (string);
  'exception'?: (_mamori_v1_RuleException | null);
  'setting'?: (_mamori_v1_RuleSetting | null);
  /**
   * Who wrote this version, as the audit trail names them (never a secret).
   */
  'updated_by'?: (string);
  /**
   * When this version was written, in microseconds since the Unix epoch.
   */
  'updated_unix_micros'?: (number | string | Long);
  'deleted'?: (boolean);
  'tuning'?: "exception"|"setting";
}

/**
 * Detection tuning of one tenant, written by the API (admins only) to the rule tuning topic
 * (`mamori.rule-tuning.v1`, compacted, keyed "<tenant_id>/exception/<id>" or
 * "<tenant_id>/setting/<rule>") and read from its beginning by every detector, which applies a
 * change to the next batch it evaluates: no restart. The last record per key wins; a record
 * with `deleted` set is a tombstone (a value, not Kafka's null, so compaction cannot drop the
 * deletion before readers have seen it).
 */
export interface RuleTuning__Output {
  /**
   * Equals the tenant of the record key; written by the API from the caller's credential.
   */
  'tenant_id': (string);
  'exception'?: (_mamori_v1_RuleException__Output | null);
  'setting'?: (_mamori_v1_RuleSetting__Output | null);
  /**
   * Who wrote this version, as the audit trail names them (never a secret).
   */
  'updated_by': (string);
  /**
   * When this version was written, in microseconds since the Unix epoch.
   */
  'updated_unix_micros': (number);
  'deleted': (boolean);
  'tuning'?: "exception"|"setting";
}
