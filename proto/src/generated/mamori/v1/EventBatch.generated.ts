// Original file: mamori/v1/defender.proto

import type { Event as _mamori_v1_Event, Event__Output as _mamori_v1_Event__Output } from '../../mamori/v1/Event.generated.js';
import type { Long } from '@grpc/proto-loader';

/**
 * A batch of events. Sequence numbers increase by one per batch over the agent's lifetime
 * (across reconnects); a batch resent after a reconnect keeps its sequence and its events
 * keep their ids.
 */
export interface EventBatch {
  'sequence'?: (number | string | Long);
  'events'?: (_mamori_v1_Event)[];
}

/**
 * A batch of events. Sequence numbers increase by one per batch over the agent's lifetime
 * (across reconnects); a batch resent after a reconnect keeps its sequence and its events
 * keep their ids.
 */
export interface EventBatch__Output {
  'sequence': (number);
  'events': (_mamori_v1_Event__Output)[];
}
