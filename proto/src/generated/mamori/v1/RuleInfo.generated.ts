// Original file: mamori/v1/event.proto

import type { Severity as _mamori_v1_Severity, Severity__Output as _mamori_v1_Severity__Output } from '../../mamori/v1/Severity.generated.js';

export interface RuleInfo {
  'id'?: (string);
  'name'?: (string);
  /**
   * falco, sigma or mamori.
   */
  'source'?: (string);
  /**
   * As written: a Falco priority or a Sigma level.
   */
  'priority'?: (string);
  'severity'?: (_mamori_v1_Severity);
  'tags'?: (string)[];
  /**
   * The event kinds the rule can fire on (Event's payload names).
   */
  'kinds'?: (string)[];
  /**
   * Where the rule is defined; empty for built-ins of code (stateful rules).
   */
  'file'?: (string);
  'line'?: (number);
  /**
   * Whether it keeps state across events (a windowed rule, such as the port scan).
   */
  'stateful'?: (boolean);
}

export interface RuleInfo__Output {
  'id': (string);
  'name': (string);
  /**
   * falco, sigma or mamori.
   */
  'source': (string);
  /**
   * As written: a Falco priority or a Sigma level.
   */
  'priority': (string);
  'severity': (_mamori_v1_Severity__Output);
  'tags': (string)[];
  /**
   * The event kinds the rule can fire on (Event's payload names).
   */
  'kinds': (string)[];
  /**
   * Where the rule is defined; empty for built-ins of code (stateful rules).
   */
  'file': (string);
  'line': (number);
  /**
   * Whether it keeps state across events (a windowed rule, such as the port scan).
   */
  'stateful': (boolean);
}
