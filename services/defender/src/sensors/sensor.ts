import type { Logger } from '@mamori/common';
import type { Event } from '@mamori/proto';

/**
 * How much an event matters when the agent must drop some (its queue or its offline spool is
 * full): low-priority events (e.g. process exits, listening sockets seen again) go first.
 */
export type EventPriority = 'high' | 'low';

/** What a sensor sees on this node and what it cannot, reported when it starts. */
export interface SensorStatus {
  /** The sensor's name: `process`, `network`, `file`, `falco`, `tetragon`. */
  sensor: string;
  /** How it sees, e.g. `proc-connector` or `procfs-poll every 100 ms`. */
  mode: string;
  /** What it cannot see, in words: "short-lived processes (< 100 ms) can be missed". */
  limitations: string[];
}

/** What a sensor is given when it starts. */
export interface SensorContext {
  /**
   * Hands an event to the agent. The sensor fills what it observed: `observed_unix_micros`,
   * `workload` and the payload; the agent stamps `id`, `agent_id` and `host`. Returns false
   * when the event was dropped (the agent's queue is full; counted and reported by the agent).
   * Never throws, never blocks.
   */
  emit(event: Event, priority?: EventPriority): boolean;
  logger: Logger;
}

/** A source of runtime events on this node. Started once, stopped once. */
export interface Sensor {
  readonly name: string;
  /**
   * Starts observing. Resolves with what the sensor can see once it runs; a sensor that
   * cannot run at all here (no permission, no such interface) rejects with a MamoriError
   * saying why, and the agent goes on without it.
   */
  start(context: SensorContext): Promise<SensorStatus>;
  /** Stops observing and releases everything (child processes, watchers, timers). */
  stop(): Promise<void>;
}
