// Original file: mamori/v1/event.proto

import type { Process as _mamori_v1_Process, Process__Output as _mamori_v1_Process__Output } from '../../mamori/v1/Process.generated.js';

export interface FileDelete {
  'process'?: (_mamori_v1_Process | null);
  'path'?: (string);
}

export interface FileDelete__Output {
  'process': (_mamori_v1_Process__Output | null);
  'path': (string);
}
