// Original file: mamori/v1/event.proto

import type { Process as _mamori_v1_Process, Process__Output as _mamori_v1_Process__Output } from '../../mamori/v1/Process.generated.js';

/**
 * A hard link created (link, linkat): a second name for an existing file. Reported when the
 * call succeeded; paths are as the process passed them (relative to its working directory
 * when not absolute).
 */
export interface FileLink {
  'process'?: (_mamori_v1_Process | null);
  /**
   * The existing file (linkat's oldpath).
   */
  'target'?: (string);
  /**
   * The new name (linkat's newpath).
   */
  'link_path'?: (string);
}

/**
 * A hard link created (link, linkat): a second name for an existing file. Reported when the
 * call succeeded; paths are as the process passed them (relative to its working directory
 * when not absolute).
 */
export interface FileLink__Output {
  'process': (_mamori_v1_Process__Output | null);
  /**
   * The existing file (linkat's oldpath).
   */
  'target': (string);
  /**
   * The new name (linkat's newpath).
   */
  'link_path': (string);
}
