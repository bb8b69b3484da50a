// Original file: mamori/v1/defender.proto

import type { L4Protocol as _mamori_v1_L4Protocol, L4Protocol__Output as _mamori_v1_L4Protocol__Output } from '../../mamori/v1/L4Protocol.generated.js';

/**
 * Destinations an allow-list of connections admits.
 */
export interface NetworkDestination {
  /**
   * An IPv4 or IPv6 network ("10.0.0.0/8", "fd00::/8"); a bare address is a /32 or /128.
   */
  'cidr'?: (string);
  /**
   * A remote port, 0 for any.
   */
  'port'?: (number);
  /**
   * tcp or udp; unspecified for both.
   */
  'protocol'?: (_mamori_v1_L4Protocol);
}

/**
 * Destinations an allow-list of connections admits.
 */
export interface NetworkDestination__Output {
  /**
   * An IPv4 or IPv6 network ("10.0.0.0/8", "fd00::/8"); a bare address is a /32 or /128.
   */
  'cidr': (string);
  /**
   * A remote port, 0 for any.
   */
  'port': (number);
  /**
   * tcp or udp; unspecified for both.
   */
  'protocol': (_mamori_v1_L4Protocol__Output);
}
