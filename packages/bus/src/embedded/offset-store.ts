import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCode, MamoriError, type Logger } from '@mamori/common';
import type { TopicPartitionOffset } from '../types.js';
import { writeFileAtomic } from './fs-util.js';

/** Longest encoded group id, in characters, so that its file name stays under 255 bytes. */
const MAX_GROUP_FILE_NAME = 200;

interface GroupFile {
  groupId: string;
  /** topic → partition → next offset to read. */
  offsets: Record<string, Record<string, number>>;
}

interface GroupState {
  committed: Map<string, Map<number, number>>;
  staged: TopicPartitionOffset[];
  waiters: { resolve: () => void; reject: (err: unknown) => void }[];
  /** The running write loop, if any. */
  writing: Promise<void> | undefined;
}

/**
 * Committed offsets of every consumer group, one JSON file per group, replaced atomically. A
 * commit resolves once its file is durable; commits arriving while one is written are coalesced
 * into the next write. Readers only ever see durable commits.
 */
export class OffsetStore {
  private readonly groups = new Map<string, GroupState>();

  private readonly dir: string;
  private readonly fsync: boolean;
  private readonly log: Logger;

  private constructor(dir: string, fsync: boolean, log: Logger) {
    this.dir = dir;
    this.fsync = fsync;
    this.log = log;
  }

  /** Loads every group's committed offsets from `dir`. */
  static async open(dir: string, fsync: boolean, log: Logger): Promise<OffsetStore> {
    await mkdir(dir, { recursive: true });
    const store = new OffsetStore(dir, fsync, log);
    for (const name of await readdir(dir)) {
      const file = join(dir, name);
      if (name.endsWith('.tmp')) {
        // A write that a crash interrupted before its rename: the previous file still stands.
        await rm(file, { force: true });
        continue;
      }
      if (!name.endsWith('.json')) continue;
      let groupId: string;
      const committed = new Map<string, Map<number, number>>();
      try {
        const parsed = JSON.parse(await readFile(file, 'utf8')) as GroupFile;
        if (typeof parsed.groupId !== 'string') throw new Error('no groupId');
        groupId = parsed.groupId;
        for (const [topic, partitions] of Object.entries(parsed.offsets)) {
          const map = new Map<number, number>();
          for (const [partition, offset] of Object.entries(partitions)) {
            if (!Number.isSafeInteger(offset) || offset < 0) throw new Error('invalid offset');
            map.set(Number(partition), offset);
          }
          committed.set(topic, map);
        }
      } catch (err) {
        throw new MamoriError(ErrorCode.BusCorrupt, 'a committed-offsets file could not be read', {
          cause: err,
          context: { file },
        });
      }
      store.groups.set(groupId, { committed, staged: [], waiters: [], writing: undefined });
    }
    return store;
  }

  /**
   * Checks that a group id can be stored.
   * @throws MamoriError Validation when it is empty or too long.
   */
  static validateGroupId(groupId: string): void {
    if (
      typeof groupId !== 'string' ||
      groupId.length === 0 ||
      fileName(groupId).length > MAX_GROUP_FILE_NAME
    ) {
      throw new MamoriError(
        ErrorCode.Validation,
        'a group id must be a non-empty string of moderate length',
        {
          context: {
            groupId: typeof groupId === 'string' ? groupId.slice(0, 100) : undefined,
            field: 'groupId',
          },
        },
      );
    }
  }

  /** The durable committed offset of one partition, if any. */
  get(groupId: string, topic: string, partition: number): number | undefined {
    return this.groups.get(groupId)?.committed.get(topic)?.get(partition);
  }

  /** Durable commits of a group for a topic, by partition. */
  list(groupId: string, topic: string): TopicPartitionOffset[] {
    const partitions = this.groups.get(groupId)?.committed.get(topic);
    if (partitions === undefined) return [];
    return [...partitions]
      .sort(([a], [b]) => a - b)
      .map(([partition, offset]) => ({ topic, partition, offset }));
  }

  /**
   * Commits offsets; resolves once they are durable.
   * @throws MamoriError BusUnavailable (retriable) when the file could not be written.
   */
  commit(groupId: string, offsets: readonly TopicPartitionOffset[]): Promise<void> {
    let state = this.groups.get(groupId);
    if (state === undefined) {
      state = { committed: new Map(), staged: [], waiters: [], writing: undefined };
      this.groups.set(groupId, state);
    }
    state.staged.push(...offsets);
    const promise = new Promise<void>((resolve, reject) => state.waiters.push({ resolve, reject }));
    state.writing ??= this.writeLoop(groupId, state);
    return promise;
  }

  /** Resolves when no write is in progress. */
  async idle(): Promise<void> {
    await Promise.all(
      [...this.groups.values()].flatMap((state) => (state.writing ? [state.writing] : [])),
    );
  }

  private async writeLoop(groupId: string, state: GroupState): Promise<void> {
    // Start after the current tick so that commits made together share one write.
    await Promise.resolve();
    for (;;) {
      if (state.waiters.length === 0) {
        // Cleared in the same tick as the last check, so a commit after it starts a new loop.
        state.writing = undefined;
        return;
      }
      const staged = state.staged;
      const waiters = state.waiters;
      state.staged = [];
      state.waiters = [];
      const next = new Map([...state.committed].map(([topic, map]) => [topic, new Map(map)]));
      for (const { topic, partition, offset } of staged) {
        let map = next.get(topic);
        if (map === undefined) {
          map = new Map();
          next.set(topic, map);
        }
        map.set(partition, offset);
      }
      try {
        await writeFileAtomic(
          join(this.dir, `${fileName(groupId)}.json`),
          serialize(groupId, next),
          this.fsync,
        );
        state.committed = next;
        for (const waiter of waiters) waiter.resolve();
      } catch (err) {
        this.log.error({ err, groupId }, 'could not persist committed offsets');
        const error = new MamoriError(
          ErrorCode.BusUnavailable,
          'committed offsets could not be made durable',
          {
            retriable: true,
            cause: err,
            context: { groupId },
          },
        );
        for (const waiter of waiters) waiter.reject(error);
      }
    }
  }
}

function fileName(groupId: string): string {
  return encodeURIComponent(groupId);
}

function serialize(groupId: string, committed: Map<string, Map<number, number>>): string {
  const file: GroupFile = { groupId, offsets: {} };
  for (const [topic, partitions] of committed) {
    file.offsets[topic] = Object.fromEntries([...partitions].map(([p, o]) => [String(p), o]));
  }
  return `${JSON.stringify(file)}\n`;
}
