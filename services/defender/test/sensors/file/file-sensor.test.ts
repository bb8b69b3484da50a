import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSilentLogger } from '@mamori/common';
import type { Event } from '@mamori/proto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFileSensor, type FileSensor } from '../../../src/sensors/file/file-sensor.js';

const sha256 = (text: string) => `sha256:${createHash('sha256').update(text).digest('hex')}`;

let root: string;
let sensor: FileSensor | undefined;
let events: Event[];

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'mamori-file-sensor-'));
  await writeFile(join(root, 'passwd'), 'root:x:0:0::/root:/bin/sh\n');
  await writeFile(join(root, 'motd'), 'hello\n');
  await mkdir(join(root, 'sudoers.d', 'nested'), { recursive: true });
  events = [];
});

afterEach(async () => {
  await sensor?.stop();
  sensor = undefined;
  await rm(root, { recursive: true, force: true });
});

async function start(maxHashBytes?: number): Promise<void> {
  sensor = createFileSensor({
    paths: [join(root, 'passwd'), join(root, 'sudoers.d'), join(root, 'missing', 'file')],
    settleMs: 50,
    ...(maxHashBytes === undefined ? {} : { maxHashBytes }),
  });
  const status = await sensor.start({
    logger: createSilentLogger(),
    emit: (event) => {
      events.push(event);
      return true;
    },
  });
  expect(status.limitations.join('\n')).toContain('not watched (no such file or directory)');
}

const writes = () => events.flatMap((e) => (e.file_write ? [e.file_write] : []));

describe('file sensor', () => {
  it('reports a write to a sensitive file with the hash of its new content, and nothing for others', async () => {
    await start();
    const content = 'root:x:0:0::/root:/bin/sh\nevil:x:0:0::/:/bin/sh\n';
    await writeFile(join(root, 'motd'), 'changed\n');
    await writeFile(join(root, 'passwd'), content);
    await expect.poll(writes, { timeout: 10_000 }).toContainEqual({
      path: join(root, 'passwd'),
      bytes_written: content.length,
      content_hash: sha256(content),
    });
    expect(events.every((e) => e.labels?.['sensor'] === 'file')).toBe(true);
    expect(JSON.stringify(events)).not.toContain('motd');
    expect(events.every((e) => e.file_write?.process === undefined)).toBe(true);
  });

  it('reports a file renamed over a sensitive one as a rename and a write', async () => {
    await start();
    const content = 'replaced\n';
    await writeFile(join(root, 'sudoers.d', '.tmp'), content);
    await new Promise((r) => setTimeout(r, 200)); // its creation is reported on its own
    await rename(join(root, 'sudoers.d', '.tmp'), join(root, 'sudoers.d', 'admins'));
    await expect
      .poll(() => events.flatMap((e) => (e.file_rename ? [e.file_rename] : [])), {
        timeout: 10_000,
      })
      .toContainEqual({
        old_path: join(root, 'sudoers.d', '.tmp'),
        new_path: join(root, 'sudoers.d', 'admins'),
      });
    await expect.poll(writes, { timeout: 10_000 }).toContainEqual(
      expect.objectContaining({
        path: join(root, 'sudoers.d', 'admins'),
        content_hash: sha256(content),
      }),
    );
  });

  it('reports writes and deletes anywhere under a sensitive directory', async () => {
    await start();
    const nested = join(root, 'sudoers.d', 'nested', 'ops');
    await writeFile(nested, 'ops ALL=(ALL) NOPASSWD: ALL\n');
    await expect.poll(() => writes().map((w) => w.path), { timeout: 10_000 }).toContain(nested);
    await unlink(nested);
    await expect
      .poll(() => events.flatMap((e) => (e.file_delete ? [e.file_delete.path] : [])), {
        timeout: 10_000,
      })
      .toEqual([nested]);
  });

  it('leaves the hash out for a file larger than the bound', async () => {
    await start(4);
    await writeFile(join(root, 'passwd'), 'longer than four bytes\n');
    await expect
      .poll(writes, { timeout: 10_000 })
      .toContainEqual({ path: join(root, 'passwd'), bytes_written: 23 });
  });
});
