// Original file: mamori/v1/event.proto

import type { Process as _mamori_v1_Process, Process__Output as _mamori_v1_Process__Output } from '../../mamori/v1/Process.generated.js';

/**
 * A symbolic link created (symlink, symlinkat). Reported when the call succeeded.
 */
export interface FileSymlink {
  'process'?: (_mamori_v1_Process | null);
  /**
   * The link's content as written, not resolved: it need not exist, and a relative target is
   * relative to the link's directory, not to the working directory.
   */
  'target'?: (string);
  /**
   * Where the link was created, as the process passed it.
   */
  'link_path'?: (string);
}

/**
 * A symbolic link created (symlink, symlinkat). Reported when the call succeeded.
 */
export interface FileSymlink__Output {
  'process': (_mamori_v1_Process__Output | null);
  /**
   * The link's content as written, not resolved: it need not exist, and a relative target is
   * relative to the link's directory, not to the working directory.
   */
  'target': (string);
  /**
   * Where the link was created, as the process passed it.
   */
  'link_path': (string);
}
