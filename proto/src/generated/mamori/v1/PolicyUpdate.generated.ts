// Original file: mamori/v1/defender.proto

import type { Policy as _mamori_v1_Policy, Policy__Output as _mamori_v1_Policy__Output } from '../../mamori/v1/Policy.generated.js';

/**
 * A complete policy set; replaces whatever the agent had.
 */
export interface PolicyUpdate {
  'version'?: (string);
  'policies'?: (_mamori_v1_Policy)[];
}

/**
 * A complete policy set; replaces whatever the agent had.
 */
export interface PolicyUpdate__Output {
  'version': (string);
  'policies': (_mamori_v1_Policy__Output)[];
}
