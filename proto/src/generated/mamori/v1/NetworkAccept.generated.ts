// Original file: mamori/v1/event.proto

import type { Process as _mamori_v1_Process, Process__Output as _mamori_v1_Process__Output } from '../../mamori/v1/Process.generated.js';
import type { Connection as _mamori_v1_Connection, Connection__Output as _mamori_v1_Connection__Output } from '../../mamori/v1/Connection.generated.js';

export interface NetworkAccept {
  'process'?: (_mamori_v1_Process | null);
  'connection'?: (_mamori_v1_Connection | null);
}

export interface NetworkAccept__Output {
  'process': (_mamori_v1_Process__Output | null);
  'connection': (_mamori_v1_Connection__Output | null);
}
