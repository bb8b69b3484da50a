// Original file: mamori/v1/defender.proto

import type { KillProcess as _mamori_v1_KillProcess, KillProcess__Output as _mamori_v1_KillProcess__Output } from '../../mamori/v1/KillProcess.generated.js';
import type { StopContainer as _mamori_v1_StopContainer, StopContainer__Output as _mamori_v1_StopContainer__Output } from '../../mamori/v1/StopContainer.generated.js';

export interface Command {
  'id'?: (string);
  'kill_process'?: (_mamori_v1_KillProcess | null);
  'stop_container'?: (_mamori_v1_StopContainer | null);
  'action'?: "kill_process"|"stop_container";
}

export interface Command__Output {
  'id': (string);
  'kill_process'?: (_mamori_v1_KillProcess__Output | null);
  'stop_container'?: (_mamori_v1_StopContainer__Output | null);
  'action'?: "kill_process"|"stop_container";
}
