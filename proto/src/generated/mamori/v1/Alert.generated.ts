// Original file: mamori/v1/event.proto

import type { Severity as _mamori_v1_Severity, Severity__Output as _mamori_v1_Severity__Output } from '../../mamori/v1/Severity.generated.js';
import type { Workload as _mamori_v1_Workload, Workload__Output as _mamori_v1_Workload__Output } from '../../mamori/v1/Workload.generated.js';
import type { Long } from '@grpc/proto-loader';

/**
 * An alert a detector raised, on the alerts topic (keyed by "<tenant>/<agent>"). Derived from
 * events, so a replay raises the same alert again: `id` is deterministic (rule and triggering
 * event) and `observed_unix_micros` is the triggering event's time, not the detection's.
 */
export interface Alert {
  'id'?: (string);
  'tenant_id'?: (string);
  'observed_unix_micros'?: (number | string | Long);
  'rule_id'?: (string);
  'rule_name'?: (string);
  /**
   * Required: an alert without a severity is refused.
   */
  'severity'?: (_mamori_v1_Severity);
  /**
   * The rule's rendered output.
   */
  'title'?: (string);
  'agent_id'?: (string);
  'event_id'?: (string);
  'hostname'?: (string);
  /**
   * The workload of the triggering event, when it ran in a container.
   */
  'workload'?: (_mamori_v1_Workload | null);
  /**
   * MITRE ATT&CK techniques and the rule's own tags.
   */
  'tags'?: (string)[];
  /**
   * The fields the rule reports (e.g. "proc.cmdline"), as text.
   */
  'details'?: ({[key: string]: string});
}

/**
 * An alert a detector raised, on the alerts topic (keyed by "<tenant>/<agent>"). Derived from
 * events, so a replay raises the same alert again: `id` is deterministic (rule and triggering
 * event) and `observed_unix_micros` is the triggering event's time, not the detection's.
 */
export interface Alert__Output {
  'id': (string);
  'tenant_id': (string);
  'observed_unix_micros': (number);
  'rule_id': (string);
  'rule_name': (string);
  /**
   * Required: an alert without a severity is refused.
   */
  'severity': (_mamori_v1_Severity__Output);
  /**
   * The rule's rendered output.
   */
  'title': (string);
  'agent_id': (string);
  'event_id': (string);
  'hostname': (string);
  /**
   * The workload of the triggering event, when it ran in a container.
   */
  'workload': (_mamori_v1_Workload__Output | null);
  /**
   * MITRE ATT&CK techniques and the rule's own tags.
   */
  'tags': (string)[];
  /**
   * The fields the rule reports (e.g. "proc.cmdline"), as text.
   */
  'details': ({[key: string]: string});
}
