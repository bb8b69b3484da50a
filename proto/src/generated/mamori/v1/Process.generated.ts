// Original file: mamori/v1/event.proto

import type { ProcessAncestor as _mamori_v1_ProcessAncestor, ProcessAncestor__Output as _mamori_v1_ProcessAncestor__Output } from '../../mamori/v1/ProcessAncestor.generated.js';
import type { Long } from '@grpc/proto-loader';

/**
 * A running or finished process as the sensor saw it.
 */
export interface Process {
  'pid'?: (number);
  'ppid'?: (number);
  /**
   * Short name (comm).
   */
  'name'?: (string);
  /**
   * Full path of the executable.
   */
  'exe'?: (string);
  /**
   * argv, including argv[0].
   */
  'args'?: (string)[];
  'cwd'?: (string);
  'uid'?: (number);
  'gid'?: (number);
  'user'?: (string);
  /**
   * Controlling terminal, empty when there is none.
   */
  'tty'?: (string);
  'start_unix_micros'?: (number | string | Long);
  /**
   * Ancestors, nearest first: parent, grandparent, ….
   */
  'ancestors'?: (_mamori_v1_ProcessAncestor)[];
  /**
   * Login uid (audit), -1 when unset.
   */
  'login_uid'?: (number);
  /**
   * Hash of the executable, e.g. sha256:…, when the sensor computed it.
   */
  'exe_hash'?: (string);
  /**
   * What the standard streams are connected to, in Falco's fd.type words: file, directory,
   * ipv4, ipv6, unix, pipe, event, signalfd, eventpoll, inotify; empty when the sensor could
   * not tell. A shell whose streams are an ipv4 or ipv6 socket is a reverse shell.
   */
  'stdin_type'?: (string);
  'stdout_type'?: (string);
  'stderr_type'?: (string);
  /**
   * The executable is in the container's writable layer (overlayfs upper dir): it was written
   * or changed after the container started, which an image's own programs never are.
   */
  'exe_upper_layer'?: (boolean);
  /**
   * The thread's effective capability set as the kernel holds it (task credentials, the
   * CapEff line of /proc/<pid>/status): bit N is capability N (CAP_CHOWN = 0, CAP_SYS_MODULE =
   * 16, CAP_SYS_ADMIN = 21, …). Absent when the sensor did not read it; 0 is "no capabilities".
   */
  'cap_effective'?: (number | string | Long);
  '_cap_effective'?: "cap_effective";
}

/**
 * A running or finished process as the sensor saw it.
 */
export interface Process__Output {
  'pid': (number);
  'ppid': (number);
  /**
   * Short name (comm).
   */
  'name': (string);
  /**
   * Full path of the executable.
   */
  'exe': (string);
  /**
   * argv, including argv[0].
   */
  'args': (string)[];
  'cwd': (string);
  'uid': (number);
  'gid': (number);
  'user': (string);
  /**
   * Controlling terminal, empty when there is none.
   */
  'tty': (string);
  'start_unix_micros': (number);
  /**
   * Ancestors, nearest first: parent, grandparent, ….
   */
  'ancestors': (_mamori_v1_ProcessAncestor__Output)[];
  /**
   * Login uid (audit), -1 when unset.
   */
  'login_uid': (number);
  /**
   * Hash of the executable, e.g. sha256:…, when the sensor computed it.
   */
  'exe_hash': (string);
  /**
   * What the standard streams are connected to, in Falco's fd.type words: file, directory,
   * ipv4, ipv6, unix, pipe, event, signalfd, eventpoll, inotify; empty when the sensor could
   * not tell. A shell whose streams are an ipv4 or ipv6 socket is a reverse shell.
   */
  'stdin_type': (string);
  'stdout_type': (string);
  'stderr_type': (string);
  /**
   * The executable is in the container's writable layer (overlayfs upper dir): it was written
   * or changed after the container started, which an image's own programs never are.
   */
  'exe_upper_layer': (boolean);
  /**
   * The thread's effective capability set as the kernel holds it (task credentials, the
   * CapEff line of /proc/<pid>/status): bit N is capability N (CAP_CHOWN = 0, CAP_SYS_MODULE =
   * 16, CAP_SYS_ADMIN = 21, …). Absent when the sensor did not read it; 0 is "no capabilities".
   */
  'cap_effective'?: (number);
  '_cap_effective'?: "cap_effective";
}
