// Original file: mamori/v1/event.proto

import type { Process as _mamori_v1_Process, Process__Output as _mamori_v1_Process__Output } from '../../mamori/v1/Process.generated.js';
import type { Long } from '@grpc/proto-loader';

export interface FileWrite {
  /**
   * The writing process; absent when the sensor cannot know it (inotify), likewise for
   * FileRename and FileDelete.
   */
  'process'?: (_mamori_v1_Process | null);
  'path'?: (string);
  'bytes_written'?: (number | string | Long);
  /**
   * Content hash after the write, e.g. sha256:…, when computed.
   */
  'content_hash'?: (string);
}

export interface FileWrite__Output {
  /**
   * The writing process; absent when the sensor cannot know it (inotify), likewise for
   * FileRename and FileDelete.
   */
  'process': (_mamori_v1_Process__Output | null);
  'path': (string);
  'bytes_written': (number);
  /**
   * Content hash after the write, e.g. sha256:…, when computed.
   */
  'content_hash': (string);
}
