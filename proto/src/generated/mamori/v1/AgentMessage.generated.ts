// Original file: mamori/v1/defender.proto

import type { Hello as _mamori_v1_Hello, Hello__Output as _mamori_v1_Hello__Output } from '../../mamori/v1/Hello.generated.js';
import type { EventBatch as _mamori_v1_EventBatch, EventBatch__Output as _mamori_v1_EventBatch__Output } from '../../mamori/v1/EventBatch.generated.js';
import type { CommandResult as _mamori_v1_CommandResult, CommandResult__Output as _mamori_v1_CommandResult__Output } from '../../mamori/v1/CommandResult.generated.js';

export interface AgentMessage {
  'hello'?: (_mamori_v1_Hello | null);
  'batch'?: (_mamori_v1_EventBatch | null);
  'command_result'?: (_mamori_v1_CommandResult | null);
  'message'?: "hello"|"batch"|"command_result";
}

export interface AgentMessage__Output {
  'hello'?: (_mamori_v1_Hello__Output | null);
  'batch'?: (_mamori_v1_EventBatch__Output | null);
  'command_result'?: (_mamori_v1_CommandResult__Output | null);
  'message'?: "hello"|"batch"|"command_result";
}
