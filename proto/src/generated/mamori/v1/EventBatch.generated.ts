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
  /**
   * Events the agent dropped since the batch before this one (its queue or its offline spool
   * was full), by priority: low-priority events (exits, sockets seen again) go first. A batch
   * resent keeps its counts; ingest counts them once per sequence it accepts.
   */
  'dropped_low'?: (number | string | Long);
  'dropped_high'?: (number | string | Long);
}

/**
 * A batch of events. Sequence numbers increase by one per batch over the agent's lifetime
 * (across reconnects); a batch resent after a reconnect keeps its sequence and its events
 * keep their ids.
 */
export interface EventBatch__Output {
  'sequence': (number);
  'events': (_mamori_v1_Event__Output)[];
  /**
   * Events the agent dropped since the batch before this one (its queue or its offline spool
   * was full), by priority: low-priority events (exits, sockets seen again) go first. A batch
   * resent keeps its counts; ingest counts them once per sequence it accepts.
   */
  'dropped_low': (number);
  'dropped_high': (number);
}
