// Original file: mamori/v1/event.proto

import type { Process as _mamori_v1_Process, Process__Output as _mamori_v1_Process__Output } from '../../mamori/v1/Process.generated.js';

/**
 * A socket created (socket). Reported when the call succeeded.
 */
export interface NetworkSocket {
  'process'?: (_mamori_v1_Process | null);
  /**
   * The address family by its Linux name: AF_INET, AF_INET6, AF_UNIX, AF_NETLINK, AF_PACKET,
   * …; AF_<number> for a family without a name.
   */
  'domain'?: (string);
  /**
   * socket(2)'s type argument as passed, flags included: SOCK_STREAM = 1, SOCK_DGRAM = 2,
   * SOCK_RAW = 3, with SOCK_NONBLOCK and SOCK_CLOEXEC bits.
   */
  'type'?: (number);
  /**
   * socket(2)'s protocol argument as passed (for AF_PACKET, an ethertype in network byte
   * order: 768 is ETH_P_ALL).
   */
  'protocol'?: (number);
}

/**
 * A socket created (socket). Reported when the call succeeded.
 */
export interface NetworkSocket__Output {
  'process': (_mamori_v1_Process__Output | null);
  /**
   * The address family by its Linux name: AF_INET, AF_INET6, AF_UNIX, AF_NETLINK, AF_PACKET,
   * …; AF_<number> for a family without a name.
   */
  'domain': (string);
  /**
   * socket(2)'s type argument as passed, flags included: SOCK_STREAM = 1, SOCK_DGRAM = 2,
   * SOCK_RAW = 3, with SOCK_NONBLOCK and SOCK_CLOEXEC bits.
   */
  'type': (number);
  /**
   * socket(2)'s protocol argument as passed (for AF_PACKET, an ethertype in network byte
   * order: 768 is ETH_P_ALL).
   */
  'protocol': (number);
}
