import { readdir, readlink } from 'node:fs/promises';

/** How many processes' descriptor tables are read at once: bounds open handles and threads. */
const SCAN_CONCURRENCY = 16;

/**
 * Finds which process holds a socket, by its inode, from the `socket:[inode]` links under
 * /proc/<pid>/fd. Reading every process's descriptors is the costly part of the network
 * sensor, so it reads only the processes it is told to, and the caller asks for a full scan
 * only when a socket it has not seen before is not found in the likely ones.
 */
export interface SocketOwners {
  /** Reads the descriptors of `pids` and returns the inodes of the sockets each holds. */
  scan(pids: Iterable<number>): Promise<Map<number, number>>;
}

export function createSocketOwners(procRoot: string): SocketOwners {
  async function socketsOf(pid: number, into: Map<number, number>): Promise<void> {
    const dir = `${procRoot}/${pid}/fd`;
    let fds: string[];
    try {
      fds = await readdir(dir);
    } catch {
      return; // exited, or not ours to read: nothing to learn from it
    }
    for (const fd of fds) {
      let target: string;
      try {
        target = await readlink(`${dir}/${fd}`);
      } catch {
        continue; // closed since readdir
      }
      if (!target.startsWith('socket:[')) continue;
      const inode = Number(target.slice(8, -1));
      if (!Number.isSafeInteger(inode)) continue;
      // A socket shared by several processes (a forked server, a child that inherited it)
      // belongs to the lowest pid, usually the parent that made it: stable whatever the order
      // of the reads.
      const owner = into.get(inode);
      if (owner === undefined || pid < owner) into.set(inode, pid);
    }
  }

  return {
    async scan(pids) {
      const found = new Map<number, number>();
      const list = [...new Set(pids)];
      for (let i = 0; i < list.length; i += SCAN_CONCURRENCY) {
        await Promise.all(list.slice(i, i + SCAN_CONCURRENCY).map((pid) => socketsOf(pid, found)));
      }
      return found;
    },
  };
}
