import type { ConsumedBatch } from '../../src/index.js';
import { describe, expect, it, onTestFinished } from 'vitest';
import { followTopic } from '../../src/index.js';
import { makeRecords, openBus, tempDir } from './helpers.js';

async function eventually(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(check()).toBe(true);
}

describe('followTopic', () => {
  it('reads what was on the topic before it says it is synced, then follows what comes', async () => {
    const bus = await openBus(await tempDir(), { fsync: false });
    await bus.ensureTopics([{ topic: 'state', partitions: 2 }]);
    await bus.produce('state', makeRecords(50));
    const seen: { value: string; synced: boolean }[] = [];
    let syncedCalls = 0;
    const follower = followTopic({
      bus,
      topic: 'state',
      groupPrefix: 'test-follower',
      onBatch: (batch: ConsumedBatch, synced) =>
        seen.push(...batch.records.map((r) => ({ value: r.value.toString(), synced }))),
      onSynced: () => syncedCalls++,
    });
    onTestFinished(() => follower.stop());
    await follower.start();
    expect(await follower.waitSynced(10_000)).toBe(true);
    expect(follower.synced).toBe(true);
    expect(syncedCalls).toBe(1);
    expect(seen).toHaveLength(50);
    expect(seen.every((s) => !s.synced)).toBe(true);

    await bus.produce('state', makeRecords(3, { from: 50 }));
    await eventually(() => seen.length === 53);
    expect(seen.slice(50).every((s) => s.synced)).toBe(true);
    expect(syncedCalls).toBe(1);
  });

  it('is synced at once on an empty topic, and each follower reads everything', async () => {
    const bus = await openBus(await tempDir(), { fsync: false });
    await bus.ensureTopics([{ topic: 'empty', partitions: 1 }]);
    const counts = [0, 0];
    const followers = counts.map((_, i) =>
      followTopic({
        bus,
        topic: 'empty',
        groupPrefix: 'test-follower',
        onBatch: (batch) => (counts[i]! += batch.records.length),
      }),
    );
    onTestFinished(async () => {
      await Promise.all(followers.map((f) => f.stop()));
    });
    await Promise.all(followers.map((f) => f.start()));
    expect(await Promise.all(followers.map((f) => f.waitSynced(10_000)))).toEqual([true, true]);
    await bus.produce('empty', makeRecords(4));
    // Groups of their own: every follower gets every record, none shares them out.
    await eventually(() => counts[0] === 4 && counts[1] === 4);
  });

  it('waits, when asked, until it has read what is on the topic at that moment', async () => {
    const bus = await openBus(await tempDir(), { fsync: false });
    await bus.ensureTopics([{ topic: 'later', partitions: 3 }]);
    let read = 0;
    const follower = followTopic({
      bus,
      topic: 'later',
      groupPrefix: 'test-follower',
      onBatch: (batch) => (read += batch.records.length),
    });
    onTestFinished(() => follower.stop());
    await follower.start();
    await bus.produce('later', makeRecords(30));
    await follower.caughtUp();
    expect(read).toBe(30);
  });
});
