// Original file: mamori/v1/event.proto

/**
 * tcp or udp.
 */
export const L4Protocol = {
  L4_PROTOCOL_UNSPECIFIED: 'L4_PROTOCOL_UNSPECIFIED',
  L4_PROTOCOL_TCP: 'L4_PROTOCOL_TCP',
  L4_PROTOCOL_UDP: 'L4_PROTOCOL_UDP',
} as const;

/**
 * tcp or udp.
 */
export type L4Protocol =
  | 'L4_PROTOCOL_UNSPECIFIED'
  | 0
  | 'L4_PROTOCOL_TCP'
  | 1
  | 'L4_PROTOCOL_UDP'
  | 2

/**
 * tcp or udp.
 */
export type L4Protocol__Output = typeof L4Protocol[keyof typeof L4Protocol]
