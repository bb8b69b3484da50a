import {
  appendFileSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { openSpool } from '../../src/spool/spool.js';

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'mamori-spool-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const body = (text: string) => () => Buffer.from(text);
const texts = (batches: { bytes: Buffer }[]) => batches.map((b) => b.bytes.toString());

describe('spool', () => {
  it('numbers batches from 1, reads the pending ones in order, and forgets acknowledged ones', async () => {
    const spool = await openSpool({ dir: tempDir(), maxBytes: 1 << 20 });
    expect(await spool.append(body('a'))).toBe(1);
    expect(await spool.append(body('b'))).toBe(2);
    expect(await spool.append(body('c'))).toBe(3);
    expect(texts(await spool.read(0, 10))).toEqual(['a', 'b', 'c']);
    expect(texts(await spool.read(1, 1))).toEqual(['b']);
    await spool.ack(2);
    expect(texts(await spool.read(0, 10))).toEqual(['c']);
    expect(spool.stats()).toMatchObject({ pending: 1, acked: 2, nextSequence: 4 });
    await spool.close();
  });

  it('keeps pending batches and the sequence across a restart, and never reuses a sequence', async () => {
    const dir = tempDir();
    const first = await openSpool({ dir, maxBytes: 1 << 20 });
    for (const t of ['a', 'b', 'c']) await first.append(body(t));
    await first.ack(1);
    await first.close();

    const second = await openSpool({ dir, maxBytes: 1 << 20 });
    expect((await second.read(0, 10)).map((b) => [b.sequence, b.bytes.toString()])).toEqual([
      [2, 'b'],
      [3, 'c'],
    ]);
    await second.ack(3);
    await second.close();
    const third = await openSpool({ dir, maxBytes: 1 << 20 });
    expect(await third.read(0, 10)).toEqual([]);
    expect(await third.append(body('d'))).toBe(4);
    await third.close();
  });

  it('keeps its instance id across restarts, and makes a new one for a new or damaged spool', async () => {
    const dir = tempDir();
    const first = await openSpool({ dir, maxBytes: 1 << 20 });
    expect(first.instanceId).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
    );
    await first.close();
    expect(readFileSync(join(dir, 'instance'), 'utf8').trim()).toBe(first.instanceId);
    const second = await openSpool({ dir, maxBytes: 1 << 20 });
    expect(second.instanceId).toBe(first.instanceId);
    await second.close();

    const other = await openSpool({ dir: tempDir(), maxBytes: 1 << 20 });
    expect(other.instanceId).not.toBe(first.instanceId);
    await other.close();

    writeFileSync(join(dir, 'instance'), 'not an id');
    const damaged = await openSpool({ dir, maxBytes: 1 << 20 });
    expect(damaged.instanceId).not.toBe(first.instanceId);
    expect(readFileSync(join(dir, 'instance'), 'utf8').trim()).toBe(damaged.instanceId);
    await damaged.close();
  });

  it('cuts off a torn record at the end and keeps everything before it', async () => {
    const dir = tempDir();
    const spool = await openSpool({ dir, maxBytes: 1 << 20 });
    await spool.append(body('whole'));
    await spool.close();
    const [segment] = readdirSync(dir).filter((n) => n.startsWith('segment-'));
    appendFileSync(join(dir, segment!), Buffer.from([9, 0, 0, 0, 1, 2]));
    const reopened = await openSpool({ dir, maxBytes: 1 << 20 });
    expect(texts(await reopened.read(0, 10))).toEqual(['whole']);
    expect(await reopened.append(body('next'))).toBe(2);
    expect(texts(await reopened.read(0, 10))).toEqual(['whole', 'next']);
    await reopened.close();
  });

  it('refuses a batch that would pass its size limit, and takes batches again once acknowledged ones free room', async () => {
    const spool = await openSpool({ dir: tempDir(), maxBytes: 4096, segmentBytes: 1024 });
    const kb = () => Buffer.alloc(1000, 1);
    const taken: (number | undefined)[] = [];
    for (let i = 0; i < 5; i++) taken.push(await spool.append(kb));
    expect(taken).toEqual([1, 2, 3, 4, undefined]);
    expect(spool.fits(1000)).toBe(false);
    await spool.ack(2);
    expect(spool.fits(1000)).toBe(true);
    expect(await spool.append(kb)).toBe(5);
    expect(spool.stats().pending).toBe(3);
    await spool.close();
  });
});
