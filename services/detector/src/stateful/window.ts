/**
 * Sliding windows of distinct values, one per key, in event time: the building block of the
 * detector's windowed rules ("≥ N distinct values of something within W"). Pure logic: no
 * clock, no I/O. Times are the events' own (`observed_unix_micros`), never the wall clock, so
 * that a replay of the same events gives the same answers.
 */

/** What a window of distinct values counts. */
export interface DistinctWindowOptions {
  /** Length of the window, in µs of event time. Inclusive: a value seen exactly this long ago still counts. */
  windowMicros: number;
  /** Distinct values within the window that make a key cross (fire). */
  threshold: number;
  /** Most keys held; beyond it the least recently touched key is dropped (an eviction). */
  maxKeys: number;
  /**
   * How long past the window a key is kept after its last event, in µs of the partition's
   * latest event time, before it is dropped as expired. Agents' clocks differ and one partition
   * carries many agents: a key is only dropped by another agent's time well after its own
   * window has emptied. @default windowMicros
   */
  expiryGraceMicros?: number;
  /** Called once for every key dropped because `maxKeys` was reached (its state is lost). */
  onEvict?: () => void;
}

/** A key that reached the threshold: it fires once, then not again until its window empties. */
export interface Crossing {
  /** The distinct values within the window when the key crossed, oldest first. */
  values: string[];
}

/** The outcome of observing one value. */
export type ObserveOutcome =
  /** Counted; the key has not crossed (or already fired in this burst). */
  | 'counted'
  /** Older than the key's window (by its own latest event time): ignored. */
  | 'late'
  | Crossing;

/** The state of one key, as it is checkpointed: [key, latest µs, fired, [value, µs][]]. */
export type SerializedKey = [string, number, boolean, [string, number][]];

/** The state of a set of windows, as it is checkpointed (JSON). */
export interface SerializedWindows {
  /** Latest event time seen by these windows, µs. */
  watermark: number;
  /** Keys, least recently touched first (the order evictions follow). */
  keys: SerializedKey[];
}

export interface DistinctWindows {
  /**
   * Counts `value` for `key` at event time `micros`: drops the key's values older than its
   * window (relative to the key's latest event time, so an out-of-order event does not move the
   * window back), and says whether the key crossed the threshold with this value.
   */
  observe(key: string, value: string, micros: number): ObserveOutcome;
  /** Keys held now. */
  readonly size: number;
  /** The state, for a checkpoint. */
  serialize(): SerializedWindows;
}

interface KeyWindow {
  /** Each distinct value with the latest event time it was seen at (µs). */
  values: Map<string, number>;
  /** Latest event time of the key (µs). */
  latest: number;
  /** Fired in the current burst: no second alert until the window has emptied. */
  fired: boolean;
}

/**
 * Creates windows of distinct values per key, empty or from a checkpoint.
 * @throws TypeError when `from` is not a state `serialize` wrote.
 */
export function createDistinctWindows(
  options: DistinctWindowOptions,
  from?: unknown,
): DistinctWindows {
  const { windowMicros, threshold, maxKeys } = options;
  const grace = options.expiryGraceMicros ?? windowMicros;
  // A Map iterates in insertion order; a key is re-inserted when touched, so the first entry is
  // always the least recently touched key: the one to evict, and the first candidate to expire.
  const keys = new Map<string, KeyWindow>();
  let watermark = Number.NEGATIVE_INFINITY;
  if (from !== undefined) {
    const state = parseSerialized(from);
    watermark = state.watermark;
    for (const [key, latest, fired, values] of state.keys) {
      keys.set(key, { latest, fired, values: new Map(values) });
    }
  }

  /** Drops keys whose window emptied long ago (by the partition's latest time), oldest first. */
  function expire(): void {
    const before = watermark - windowMicros - grace;
    for (const [key, window] of keys) {
      if (window.latest >= before) break;
      keys.delete(key);
    }
  }

  return {
    observe(key, value, micros) {
      // Before the key is touched, so that expiring never drops the key being observed.
      if (micros > watermark) {
        watermark = micros;
        expire();
      }
      let window = keys.get(key);
      if (window === undefined) {
        window = { values: new Map(), latest: micros, fired: false };
        keys.set(key, window);
        if (keys.size > maxKeys) {
          const oldest = keys.keys().next().value!;
          keys.delete(oldest);
          options.onEvict?.();
        }
      } else {
        keys.delete(key);
        keys.set(key, window);
      }
      if (window.latest - micros > windowMicros) return 'late';
      if (micros - window.latest > windowMicros) {
        // Nothing of the key within the window before this event: a new burst begins.
        window.values.clear();
        window.fired = false;
      }
      if (micros > window.latest) window.latest = micros;
      if (window.fired) return 'counted';
      const seen = window.values.get(value);
      if (seen === undefined || seen < micros) window.values.set(value, micros);
      const cutoff = window.latest - windowMicros;
      for (const [v, at] of window.values) {
        if (at < cutoff) window.values.delete(v);
      }
      if (window.values.size < threshold) return 'counted';
      window.fired = true;
      const values = [...window.values].sort((a, b) => a[1] - b[1]).map(([v]) => v);
      // After firing only the latest time matters (until the window empties): the values go.
      window.values.clear();
      return { values };
    },
    get size() {
      return keys.size;
    },
    serialize() {
      const out: SerializedKey[] = [];
      for (const [key, { latest, fired, values }] of keys) {
        out.push([key, latest, fired, [...values]]);
      }
      return { watermark: Number.isFinite(watermark) ? watermark : 0, keys: out };
    },
  };
}

function parseSerialized(from: unknown): SerializedWindows {
  const bad = (what: string): TypeError => new TypeError(`not a window state: ${what}`);
  if (typeof from !== 'object' || from === null) throw bad('not an object');
  const { watermark, keys } = from as Partial<SerializedWindows>;
  if (typeof watermark !== 'number' || !Number.isFinite(watermark)) throw bad('watermark');
  if (!Array.isArray(keys)) throw bad('keys');
  for (const entry of keys as unknown[]) {
    if (
      !Array.isArray(entry) ||
      entry.length !== 4 ||
      typeof entry[0] !== 'string' ||
      typeof entry[1] !== 'number' ||
      typeof entry[2] !== 'boolean' ||
      !Array.isArray(entry[3]) ||
      !(entry[3] as unknown[]).every(
        (pair) =>
          Array.isArray(pair) &&
          pair.length === 2 &&
          typeof pair[0] === 'string' &&
          typeof pair[1] === 'number',
      )
    ) {
      throw bad('a key entry');
    }
  }
  return { watermark, keys };
}
