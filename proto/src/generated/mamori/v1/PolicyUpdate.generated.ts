// Original file: mamori/v1/defender.proto

import type { Policy as _mamori_v1_Policy, Policy__Output as _mamori_v1_Policy__Output } from '../../mamori/v1/Policy.generated.js';

/**
 * A complete policy set; replaces whatever the agent had. Ingest sends one right after the
 * Welcome when the Hello's policy_version differs from the tenant's current version, and again
 * on every connected stream of the tenant whenever the tenant's set changes. An empty
 * `version` with no policies means the tenant has none: the agent drops what it enforced.
 */
export interface PolicyUpdate {
  /**
   * A stable hash of the tenant's set (policies sorted by id); equal sets have equal versions.
   * Empty for the empty set, so that an agent without policies (Hello.policy_version "") is
   * not sent one.
   */
  'version'?: (string);
  /**
   * The tenant's live policies (never tombstones), sorted by id.
   */
  'policies'?: (_mamori_v1_Policy)[];
}

/**
 * A complete policy set; replaces whatever the agent had. Ingest sends one right after the
 * Welcome when the Hello's policy_version differs from the tenant's current version, and again
 * on every connected stream of the tenant whenever the tenant's set changes. An empty
 * `version` with no policies means the tenant has none: the agent drops what it enforced.
 */
export interface PolicyUpdate__Output {
  /**
   * A stable hash of the tenant's set (policies sorted by id); equal sets have equal versions.
   * Empty for the empty set, so that an agent without policies (Hello.policy_version "") is
   * not sent one.
   */
  'version': (string);
  /**
   * The tenant's live policies (never tombstones), sorted by id.
   */
  'policies': (_mamori_v1_Policy__Output)[];
}
