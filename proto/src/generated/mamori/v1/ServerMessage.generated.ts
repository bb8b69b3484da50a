// Original file: mamori/v1/defender.proto

import type { Welcome as _mamori_v1_Welcome, Welcome__Output as _mamori_v1_Welcome__Output } from '../../mamori/v1/Welcome.generated.js';
import type { BatchAck as _mamori_v1_BatchAck, BatchAck__Output as _mamori_v1_BatchAck__Output } from '../../mamori/v1/BatchAck.generated.js';
import type { PolicyUpdate as _mamori_v1_PolicyUpdate, PolicyUpdate__Output as _mamori_v1_PolicyUpdate__Output } from '../../mamori/v1/PolicyUpdate.generated.js';
import type { Command as _mamori_v1_Command, Command__Output as _mamori_v1_Command__Output } from '../../mamori/v1/Command.generated.js';

export interface ServerMessage {
  'welcome'?: (_mamori_v1_Welcome | null);
  'ack'?: (_mamori_v1_BatchAck | null);
  'policy'?: (_mamori_v1_PolicyUpdate | null);
  'command'?: (_mamori_v1_Command | null);
  'message'?: "welcome"|"ack"|"policy"|"command";
}

export interface ServerMessage__Output {
  'welcome'?: (_mamori_v1_Welcome__Output | null);
  'ack'?: (_mamori_v1_BatchAck__Output | null);
  'policy'?: (_mamori_v1_PolicyUpdate__Output | null);
  'command'?: (_mamori_v1_Command__Output | null);
  'message'?: "welcome"|"ack"|"policy"|"command";
}
