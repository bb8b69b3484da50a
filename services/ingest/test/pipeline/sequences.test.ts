import { describe, expect, it } from 'vitest';
import { SequenceTracker } from '../../src/pipeline/sequences.js';

describe('SequenceTracker', () => {
  it('calls a sequence a duplicate once it was accepted, but not after a failure', async () => {
    const tracker = new SequenceTracker();
    const first = await tracker.claim('t/a', 1);
    expect(first.kind).toBe('write');
    if (first.kind === 'write') first.settle('failed');
    const retry = await tracker.claim('t/a', 1);
    expect(retry.kind).toBe('write');
    if (retry.kind === 'write') retry.settle('accepted');
    expect((await tracker.claim('t/a', 1)).kind).toBe('duplicate');
    expect(tracker.highest('t/a')).toBe(1);
    expect((await tracker.claim('t/b', 1)).kind).toBe('write');
  });

  it('makes a resend wait for the same sequence in flight on another stream', async () => {
    const tracker = new SequenceTracker();
    const original = await tracker.claim('t/a', 7);
    const resend = tracker.claim('t/a', 7);
    let settled = false;
    void resend.then(() => (settled = true));
    await Promise.resolve();
    expect(settled).toBe(false);
    if (original.kind === 'write') original.settle('accepted');
    expect((await resend).kind).toBe('duplicate');
  });

  it('forgets the oldest sequences beyond its window instead of growing', async () => {
    const tracker = new SequenceTracker({ window: 3 });
    for (const seq of [1, 2, 3, 4]) {
      const claim = await tracker.claim('t/a', seq);
      if (claim.kind === 'write') claim.settle('accepted');
    }
    expect((await tracker.claim('t/a', 1)).kind).toBe('write');
    expect((await tracker.claim('t/a', 4)).kind).toBe('duplicate');
  });
});
