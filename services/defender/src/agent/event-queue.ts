import type { Event } from '@mamori/proto';
import type { EventPriority } from '../sensors/sensor.js';

/** Events dropped so far, by priority. */
export interface DropCounts {
  low: number;
  high: number;
}

/**
 * The bounded queue between the sensors and the spool. When it is full, a low-priority event is
 * dropped before any high-priority one: an arriving low one is dropped, an arriving high one
 * takes the place of the oldest low one, and only when every queued event is high is the
 * arriving high one dropped. Every drop is counted.
 */
export class EventQueue {
  readonly #max: number;
  /** Queued events in arrival order, so that a batch keeps the order sensors saw things. */
  #order: { event: Event; low: boolean }[] = [];
  /** How many of `#order` are low-priority. */
  #lowCount = 0;
  readonly dropped: DropCounts = { low: 0, high: 0 };

  /** @param max most events queued */
  constructor(max: number) {
    this.#max = max;
  }

  get size(): number {
    return this.#order.length;
  }

  /** Queues an event; false when it was dropped (counted). */
  push(event: Event, priority: EventPriority): boolean {
    if (this.#order.length < this.#max) {
      this.#add(event, priority);
      return true;
    }
    if (priority === 'low' || this.#lowCount === 0) {
      this.dropped[priority]++;
      return false;
    }
    // Make room: the oldest low-priority event goes.
    const oldestLow = this.#order.findIndex((entry) => entry.low);
    this.#order.splice(oldestLow, 1);
    this.#lowCount--;
    this.dropped.low++;
    this.#add(event, priority);
    return true;
  }

  #add(event: Event, priority: EventPriority): void {
    const low = priority === 'low';
    if (low) this.#lowCount++;
    this.#order.push({ event, low });
  }

  /**
   * Takes up to `max` events in arrival order. With `highOnly`, low-priority events are dropped
   * (counted) instead: the spool is nearly full and keeps its room for what matters.
   */
  take(max: number, highOnly = false): Event[] {
    const taken = this.#order.splice(0, max);
    const out: Event[] = [];
    for (const { event, low } of taken) {
      if (low) {
        this.#lowCount--;
        if (highOnly) {
          this.dropped.low++;
          continue;
        }
      }
      out.push(event);
    }
    return out;
  }
}
