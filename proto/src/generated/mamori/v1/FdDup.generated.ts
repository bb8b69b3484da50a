// Original file: mamori/v1/event.proto

import type { Process as _mamori_v1_Process, Process__Output as _mamori_v1_Process__Output } from '../../mamori/v1/Process.generated.js';
import type { Connection as _mamori_v1_Connection, Connection__Output as _mamori_v1_Connection__Output } from '../../mamori/v1/Connection.generated.js';

/**
 * A descriptor duplicated (dup, dup2, dup3) onto another number. Reported when the call
 * succeeded. The sensor reports every duplication onto 0, 1 or 2 (standard input, output,
 * error), which is how a shell's streams are redirected to a socket; others it may leave out.
 */
export interface FdDup {
  'process'?: (_mamori_v1_Process | null);
  /**
   * The descriptor duplicated (oldfd).
   */
  'old_fd'?: (number);
  /**
   * The descriptor it now also is (the call's result).
   */
  'new_fd'?: (number);
  /**
   * What the duplicated descriptor is, in Falco's fd.type words: file, directory, ipv4, ipv6,
   * unix, pipe, event, signalfd, eventpoll, inotify; empty when the sensor could not tell.
   */
  'fd_type'?: (string);
  /**
   * The path of a file, directory or unix socket; empty for ip sockets (see connection).
   */
  'fd_name'?: (string);
  /**
   * For an ipv4 or ipv6 socket, its endpoints (the remote side empty when not connected).
   */
  'connection'?: (_mamori_v1_Connection | null);
  /**
   * For an ip socket: true when it came from accept (the local side is the server), false when
   * the process connected it (the local side is the client).
   */
  'accepted'?: (boolean);
}

/**
 * A descriptor duplicated (dup, dup2, dup3) onto another number. Reported when the call
 * succeeded. The sensor reports every duplication onto 0, 1 or 2 (standard input, output,
 * error), which is how a shell's streams are redirected to a socket; others it may leave out.
 */
export interface FdDup__Output {
  'process': (_mamori_v1_Process__Output | null);
  /**
   * The descriptor duplicated (oldfd).
   */
  'old_fd': (number);
  /**
   * The descriptor it now also is (the call's result).
   */
  'new_fd': (number);
  /**
   * What the duplicated descriptor is, in Falco's fd.type words: file, directory, ipv4, ipv6,
   * unix, pipe, event, signalfd, eventpoll, inotify; empty when the sensor could not tell.
   */
  'fd_type': (string);
  /**
   * The path of a file, directory or unix socket; empty for ip sockets (see connection).
   */
  'fd_name': (string);
  /**
   * For an ipv4 or ipv6 socket, its endpoints (the remote side empty when not connected).
   */
  'connection': (_mamori_v1_Connection__Output | null);
  /**
   * For an ip socket: true when it came from accept (the local side is the server), false when
   * the process connected it (the local side is the client).
   */
  'accepted': (boolean);
}
