// Original file: mamori/v1/event.proto

import type { Process as _mamori_v1_Process, Process__Output as _mamori_v1_Process__Output } from '../../mamori/v1/Process.generated.js';

export interface FileOpen {
  'process'?: (_mamori_v1_Process | null);
  'path'?: (string);
  /**
   * open(2) flags as a number, and whether the file was opened for writing.
   */
  'flags'?: (number);
  'write'?: (boolean);
}

export interface FileOpen__Output {
  'process': (_mamori_v1_Process__Output | null);
  'path': (string);
  /**
   * open(2) flags as a number, and whether the file was opened for writing.
   */
  'flags': (number);
  'write': (boolean);
}
