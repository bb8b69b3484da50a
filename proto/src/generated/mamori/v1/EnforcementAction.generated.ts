// Original file: mamori/v1/event.proto

import type { Process as _mamori_v1_Process, Process__Output as _mamori_v1_Process__Output } from '../../mamori/v1/Process.generated.js';
import type { Long } from '@grpc/proto-loader';

/**
 * What a defender did on its own to enforce a runtime policy in prevent or block mode. The
 * decision is local, from the policy set ingest pushed (compiled with the same rules the
 * detector runs), so it does not wait for the platform; this event reports it afterwards.
 */
export interface EnforcementAction {
  /**
   * The offending process: the one killed, or whose container was stopped. Field 1, as in
   * every payload that carries a process (the store reads it from there).
   */
  'process'?: (_mamori_v1_Process | null);
  /**
   * kill_process (prevent mode) or stop_container (block mode).
   */
  'action'?: (string);
  /**
   * The policy whose rule matched, and the rule (policy:<id>:<part>).
   */
  'policy_id'?: (string);
  'rule_id'?: (string);
  /**
   * Whether the action took effect; when not, why (the process had already exited, no
   * container runtime CLI on the node, permission denied…).
   */
  'ok'?: (boolean);
  'error'?: (string);
  /**
   * The id of the event that matched (an event of the same agent).
   */
  'event_id'?: (string);
  /**
   * From the observation of that event to the action, in microseconds.
   */
  'latency_micros'?: (number | string | Long);
  /**
   * For stop_container: the container and the runtime CLI used (docker, crictl, podman…).
   */
  'container_id'?: (string);
  'runtime'?: (string);
}

/**
 * What a defender did on its own to enforce a runtime policy in prevent or block mode. The
 * decision is local, from the policy set ingest pushed (compiled with the same rules the
 * detector runs), so it does not wait for the platform; this event reports it afterwards.
 */
export interface EnforcementAction__Output {
  /**
   * The offending process: the one killed, or whose container was stopped. Field 1, as in
   * every payload that carries a process (the store reads it from there).
   */
  'process': (_mamori_v1_Process__Output | null);
  /**
   * kill_process (prevent mode) or stop_container (block mode).
   */
  'action': (string);
  /**
   * The policy whose rule matched, and the rule (policy:<id>:<part>).
   */
  'policy_id': (string);
  'rule_id': (string);
  /**
   * Whether the action took effect; when not, why (the process had already exited, no
   * container runtime CLI on the node, permission denied…).
   */
  'ok': (boolean);
  'error': (string);
  /**
   * The id of the event that matched (an event of the same agent).
   */
  'event_id': (string);
  /**
   * From the observation of that event to the action, in microseconds.
   */
  'latency_micros': (number);
  /**
   * For stop_container: the container and the runtime CLI used (docker, crictl, podman…).
   */
  'container_id': (string);
  'runtime': (string);
}
