// Original file: mamori/v1/event.proto

import type { L4Protocol as _mamori_v1_L4Protocol, L4Protocol__Output as _mamori_v1_L4Protocol__Output } from '../../mamori/v1/L4Protocol.generated.js';

/**
 * One socket endpoint pair. For a listen, the remote side is empty.
 */
export interface Connection {
  'protocol'?: (_mamori_v1_L4Protocol);
  'local_address'?: (string);
  'local_port'?: (number);
  'remote_address'?: (string);
  'remote_port'?: (number);
}

/**
 * One socket endpoint pair. For a listen, the remote side is empty.
 */
export interface Connection__Output {
  'protocol': (_mamori_v1_L4Protocol__Output);
  'local_address': (string);
  'local_port': (number);
  'remote_address': (string);
  'remote_port': (number);
}
