// Original file: mamori/v1/defender.proto

import type { PolicyMode as _mamori_v1_PolicyMode, PolicyMode__Output as _mamori_v1_PolicyMode__Output } from '../../mamori/v1/PolicyMode.generated.js';

export interface Policy {
  'id'?: (string);
  'name'?: (string);
  'mode'?: (_mamori_v1_PolicyMode);
  /**
   * Rules in Falco's rule language (YAML text).
   */
  'rules'?: (string);
  /**
   * Scope: empty lists match everything.
   */
  'namespaces'?: (string)[];
  'images'?: (string)[];
}

export interface Policy__Output {
  'id': (string);
  'name': (string);
  'mode': (_mamori_v1_PolicyMode__Output);
  /**
   * Rules in Falco's rule language (YAML text).
   */
  'rules': (string);
  /**
   * Scope: empty lists match everything.
   */
  'namespaces': (string)[];
  'images': (string)[];
}
