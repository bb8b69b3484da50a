// Original file: mamori/v1/event.proto

import type { Process as _mamori_v1_Process, Process__Output as _mamori_v1_Process__Output } from '../../mamori/v1/Process.generated.js';

export interface ProcessExit {
  'process'?: (_mamori_v1_Process | null);
  'exit_code'?: (number);
  /**
   * Terminating signal number, 0 when the process exited on its own.
   */
  'signal'?: (number);
}

export interface ProcessExit__Output {
  'process': (_mamori_v1_Process__Output | null);
  'exit_code': (number);
  /**
   * Terminating signal number, 0 when the process exited on its own.
   */
  'signal': (number);
}
