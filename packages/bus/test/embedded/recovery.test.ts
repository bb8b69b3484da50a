import { appendFile, readFile, stat, truncate, writeFile } from 'node:fs/promises';
import { isMamoriError, type MamoriError } from '@mamori/common';
import { captureLogs } from '@mamori/common/testing';
import { describe, expect, it } from 'vitest';
import { createEmbeddedBus } from '../../src/index.js';
import { makeRecords, openBus, readAll, segmentFiles, tempDir } from './helpers.js';

const topic = 'recovery';

/** Writes `count` records (one produce call each, so files end on whole records) and closes. */
async function writeLog(dir: string, count: number, segmentBytes?: number): Promise<void> {
  const bus = await openBus(dir, segmentBytes === undefined ? {} : { segmentBytes });
  await bus.ensureTopics([{ topic }]);
  for (const record of makeRecords(count)) await bus.produce(topic, [record]);
  await bus.close();
}

async function flipByte(file: string, position: number): Promise<void> {
  const content = await readFile(file);
  content[position] = content[position]! ^ 0xff;
  await writeFile(file, content);
}

async function openError(dir: string): Promise<MamoriError> {
  try {
    const bus = await createEmbeddedBus({ dir });
    await bus.close();
  } catch (err) {
    if (isMamoriError(err)) return err;
    throw err;
  }
  throw new Error('the bus opened');
}

describe('embedded log recovery', () => {
  it('cuts off a record torn mid-write, logs file and position, and keeps every record before it', async () => {
    const dir = await tempDir();
    await writeLog(dir, 20);
    const [file] = await segmentFiles(dir, topic, 0);
    const { size } = await stat(file!);
    await truncate(file!, size - 5); // the last record loses its last 5 bytes

    const { logger, lines } = captureLogs();
    const bus = await openBus(dir, { logger });
    const records = await readAll(bus, topic, 0);
    expect(records.map((r) => r.value.toString())).toEqual(
      makeRecords(19).map((r) => r.value.toString()),
    );
    const warning = lines.find((l) => l.msg === 'truncated a torn tail of the embedded log');
    expect(warning).toMatchObject({ file, offset: 19, partition: 0, topic });
    expect(warning!['position']).toBe((await stat(file!)).size);

    // The log is appendable where the torn record was.
    const [result] = await bus.produce(topic, [{ key: null, value: Buffer.from('after') }]);
    expect(result!.offset).toBe(19);
    expect((await readAll(bus, topic, 0)).at(-1)!.value.toString()).toBe('after');
  });

  it('cuts off a last record whose checksum no longer matches', async () => {
    const dir = await tempDir();
    await writeLog(dir, 10);
    const [file] = await segmentFiles(dir, topic, 0);
    const { size } = await stat(file!);
    await flipByte(file!, size - 2);

    const { logger, lines } = captureLogs();
    const bus = await openBus(dir, { logger });
    expect((await bus.offsets(topic))[0]).toEqual({ partition: 0, low: 0, high: 9 });
    expect(lines.find((l) => l.msg === 'truncated a torn tail of the embedded log')).toMatchObject({
      reason: 'checksum mismatch',
    });
  });

  it('cuts off a tail of zeros left by a crash after the file grew', async () => {
    const dir = await tempDir();
    await writeLog(dir, 5);
    const [file] = await segmentFiles(dir, topic, 0);
    const { size } = await stat(file!);
    await appendFile(file!, Buffer.alloc(4096));

    const bus = await openBus(dir);
    expect(await readAll(bus, topic, 0)).toHaveLength(5);
    expect((await stat(file!)).size).toBe(size);
  });

  it('refuses to open with BusCorrupt, naming file and position, when damage in the last segment is followed by valid records', async () => {
    const dir = await tempDir();
    await writeLog(dir, 10);
    const [file] = await segmentFiles(dir, topic, 0);
    const { size } = await stat(file!);
    const recordBytes = size / 10; // equal-sized records
    await flipByte(file!, recordBytes * 4 + 20); // inside record 4 of 10

    const error = await openError(dir);
    expect(error.code).toBe('MAMORI_BUS_CORRUPT');
    expect(error.context).toMatchObject({ file, position: recordBytes * 4, offset: 4 });
    // Nothing was cut off.
    expect((await stat(file!)).size).toBe(size);
  });

  it('fails a read with BusCorrupt naming file and position when a closed segment is damaged, without skipping it', async () => {
    const dir = await tempDir();
    await writeLog(dir, 40, 512);
    const files = await segmentFiles(dir, topic, 0);
    expect(files.length).toBeGreaterThan(2);
    const first = files[0]!;
    const { size } = await stat(first);
    await flipByte(first, Math.floor(size / 2));

    const bus = await openBus(dir); // closed segments are verified when read
    let error: unknown;
    try {
      await readAll(bus, topic, 0);
    } catch (err) {
      error = err;
    }
    expect(isMamoriError(error, 'MAMORI_BUS_CORRUPT')).toBe(true);
    expect((error as MamoriError).context).toMatchObject({ file: first, topic, partition: 0 });
    expect((error as MamoriError).context['position']).toBeLessThanOrEqual(size / 2);

    // A consumer does not skip the damage either: it delivers nothing past it.
    const consumer = bus.consumer({ groupId: 'g', topics: [topic] });
    const seen: number[] = [];
    await consumer.run(async (batch) => {
      seen.push(...batch.records.map((r) => r.offset));
      await Promise.resolve();
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const damagedOffset = (error as MamoriError).context['offset'] as number;
    expect(seen.every((offset) => offset < damagedOffset)).toBe(true);
    await consumer.close();
  });

  it('reopens cleanly after a clean close, with the same offsets', async () => {
    const dir = await tempDir();
    await writeLog(dir, 30, 1024);
    const bus = await openBus(dir);
    const offsets = await bus.offsets(topic);
    expect(offsets).toEqual([{ partition: 0, low: 0, high: 30 }]);
    expect((await readAll(bus, topic, 0)).map((r) => r.offset)).toEqual([...Array(30).keys()]);
  });
});
