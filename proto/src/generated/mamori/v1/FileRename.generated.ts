// Original file: mamori/v1/event.proto

import type { Process as _mamori_v1_Process, Process__Output as _mamori_v1_Process__Output } from '../../mamori/v1/Process.generated.js';

export interface FileRename {
  'process'?: (_mamori_v1_Process | null);
  'old_path'?: (string);
  'new_path'?: (string);
}

export interface FileRename__Output {
  'process': (_mamori_v1_Process__Output | null);
  'old_path': (string);
  'new_path': (string);
}
