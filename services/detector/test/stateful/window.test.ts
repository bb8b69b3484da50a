import { describe, expect, it } from 'vitest';
import { createDistinctWindows, type DistinctWindowOptions } from '../../src/stateful/window.js';

const S = 1_000_000; // 1 s in µs
const W = 300 * S;

function windows(options: Partial<DistinctWindowOptions> = {}) {
  let evictions = 0;
  const w = createDistinctWindows({
    windowMicros: W,
    threshold: 3,
    maxKeys: 100,
    onEvict: () => evictions++,
    ...options,
  });
  return { w, evictions: () => evictions };
}

describe('distinct windows', () => {
  it('crosses on the threshold-th distinct value, not on repeats of one value', () => {
    const { w } = windows();
    expect(w.observe('k', 'a', 0)).toBe('counted');
    expect(w.observe('k', 'a', 1 * S)).toBe('counted');
    expect(w.observe('k', 'b', 2 * S)).toBe('counted');
    expect(w.observe('k', 'b', 3 * S)).toBe('counted');
    expect(w.observe('k', 'c', 4 * S)).toEqual({ values: ['a', 'b', 'c'] });
  });

  it('keeps keys apart', () => {
    const { w } = windows();
    w.observe('k1', 'a', 0);
    w.observe('k1', 'b', 0);
    expect(w.observe('k2', 'c', 0)).toBe('counted');
    expect(w.size).toBe(2);
  });

  it('drops values older than the window by event time (inclusive at exactly the window)', () => {
    const { w } = windows();
    w.observe('k', 'a', 0);
    w.observe('k', 'b', 100 * S);
    // 'a' is W + 1 µs old: gone, so 'c' makes only two.
    expect(w.observe('k', 'c', W + 1)).toBe('counted');
    expect(w.observe('k', 'd', W + 100 * S)).toEqual({ values: ['b', 'c', 'd'] });

    const { w: edge } = windows();
    edge.observe('k', 'a', 0);
    edge.observe('k', 'b', 0);
    expect(edge.observe('k', 'c', W)).toEqual({ values: ['a', 'b', 'c'] });
  });

  it('counts an out-of-order event within the window, ignores one older than the window', () => {
    const { w } = windows();
    w.observe('k', 'a', 200 * S);
    // Arrives after, happened before: still within 5 minutes of the key's latest time.
    expect(w.observe('k', 'b', 50 * S)).toBe('counted');
    expect(w.observe('k', 'c', 400 * S - 1)).toBe('counted');
    // Now the latest is 400 s - 1 µs: 'b' (50 s) has left the window; 'a' (200 s) has not.
    expect(w.observe('k', 'z', 20 * S)).toBe('late');
    expect(w.observe('k', 'd', 400 * S)).toEqual({ values: ['a', 'c', 'd'] });
  });

  it('fires once per burst, and again only after the key has been quiet for a whole window', () => {
    const { w } = windows();
    let t = 0;
    const fired: number[] = [];
    // A burst that keeps going for 20 minutes, a new value every 10 s.
    for (let i = 0; i < 120; i++, t += 10 * S) {
      if (typeof w.observe('k', `v${i}`, t) !== 'string') fired.push(i);
    }
    expect(fired).toEqual([2]);
    // Quiet for just over a window: a new burst fires again.
    t += W;
    for (let i = 0; i < 3; i++) {
      if (typeof w.observe('k', `w${i}`, t + i) !== 'string') fired.push(120 + i);
    }
    expect(fired).toEqual([2, 122]);
  });

  it('holds at most maxKeys keys, evicting the least recently touched and counting it', () => {
    const { w, evictions } = windows({ maxKeys: 2 });
    w.observe('a', 'x', 0);
    w.observe('a', 'y', 0);
    w.observe('b', 'x', 0);
    w.observe('a', 'z', 1); // touches 'a' (and fires): 'b' is now the oldest
    w.observe('c', 'x', 2);
    expect(w.size).toBe(2);
    expect(evictions()).toBe(1);
    expect(w.serialize().keys.map(([key]) => key)).toEqual(['a', 'c']);
    // 'b' lost its value: it starts again from one (and evicts 'a', now the oldest).
    w.observe('b', 'y', 3);
    expect(w.observe('b', 'z', 4)).toBe('counted');
    expect(evictions()).toBe(2);
  });

  it('drops keys whose window emptied long ago by the partition’s latest event time, without counting an eviction', () => {
    const { w, evictions } = windows({ expiryGraceMicros: W });
    w.observe('old', 'x', 0);
    w.observe('new', 'x', 2 * W);
    expect(w.size).toBe(2);
    w.observe('new', 'y', 2 * W + 1);
    expect(w.size).toBe(1);
    expect(evictions()).toBe(0);
  });

  it('round-trips its state: a restored copy answers as the original does', () => {
    const { w } = windows();
    w.observe('k', 'a', 0);
    w.observe('k', 'b', 10 * S);
    w.observe('fired', 'a', 0);
    w.observe('fired', 'b', 0);
    w.observe('fired', 'c', 0);
    const saved = JSON.parse(JSON.stringify(w.serialize())) as unknown;
    const copy = createDistinctWindows({ windowMicros: W, threshold: 3, maxKeys: 100 }, saved);
    expect(copy.serialize()).toEqual(w.serialize());
    expect(copy.observe('k', 'c', 20 * S)).toEqual({ values: ['a', 'b', 'c'] });
    // Fired before the checkpoint: no second alert in the same burst after it.
    expect(copy.observe('fired', 'd', 30 * S)).toBe('counted');
  });

  it('refuses a state it did not write', () => {
    const options = { windowMicros: W, threshold: 3, maxKeys: 100 };
    expect(() => createDistinctWindows(options, { watermark: 'x', keys: [] })).toThrow(TypeError);
    expect(() =>
      createDistinctWindows(options, { watermark: 0, keys: [['k', 0, 'no', []]] }),
    ).toThrow(TypeError);
    expect(() => createDistinctWindows(options, null)).toThrow(TypeError);
  });
});
