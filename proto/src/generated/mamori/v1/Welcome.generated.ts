// Original file: mamori/v1/defender.proto

import type { Long } from '@grpc/proto-loader';

export interface Welcome {
  /**
   * The tenant and agent id that the credential maps to.
   */
  'tenant_id'?: (string);
  'agent_id'?: (string);
  /**
   * Unique id of this stream, for logs on both sides.
   */
  'session_id'?: (string);
  /**
   * Highest batch sequence already durable for this agent, 0 when unknown; an agent may
   * drop unacknowledged batches at or below it instead of resending them.
   */
  'last_sequence'?: (number | string | Long);
  /**
   * Limits the server enforces, so that the agent can size its batches.
   */
  'max_batch_events'?: (number);
  'max_message_bytes'?: (number);
  'server_version'?: (string);
}

export interface Welcome__Output {
  /**
   * The tenant and agent id that the credential maps to.
   */
  'tenant_id': (string);
  'agent_id': (string);
  /**
   * Unique id of this stream, for logs on both sides.
   */
  'session_id': (string);
  /**
   * Highest batch sequence already durable for this agent, 0 when unknown; an agent may
   * drop unacknowledged batches at or below it instead of resending them.
   */
  'last_sequence': (number);
  /**
   * Limits the server enforces, so that the agent can size its batches.
   */
  'max_batch_events': (number);
  'max_message_bytes': (number);
  'server_version': (string);
}
