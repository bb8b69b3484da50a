// Original file: mamori/v1/defender.proto

import type { Long } from '@grpc/proto-loader';

/**
 * What ingest records about an agent, on the agents topic (keyed by "<tenant>/<agent>"):
 * when it connects, periodically while it stays connected, and when its stream ends. The
 * store keeps the latest per agent, which the API lists.
 */
export interface AgentStatus {
  'tenant_id'?: (string);
  'agent_id'?: (string);
  'hostname'?: (string);
  'agent_version'?: (string);
  'capabilities'?: (string)[];
  'policy_version'?: (string);
  /**
   * When ingest last heard from the agent's stream.
   */
  'seen_unix_micros'?: (number | string | Long);
  /**
   * False once the stream has ended.
   */
  'connected'?: (boolean);
  'session_id'?: (string);
}

/**
 * What ingest records about an agent, on the agents topic (keyed by "<tenant>/<agent>"):
 * when it connects, periodically while it stays connected, and when its stream ends. The
 * store keeps the latest per agent, which the API lists.
 */
export interface AgentStatus__Output {
  'tenant_id': (string);
  'agent_id': (string);
  'hostname': (string);
  'agent_version': (string);
  'capabilities': (string)[];
  'policy_version': (string);
  /**
   * When ingest last heard from the agent's stream.
   */
  'seen_unix_micros': (number);
  /**
   * False once the stream has ended.
   */
  'connected': (boolean);
  'session_id': (string);
}
