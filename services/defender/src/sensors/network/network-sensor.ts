import { readFileSync } from 'node:fs';
import { readFile, readlink } from 'node:fs/promises';
import { ErrorCode, MamoriError, type Logger } from '@mamori/common';
import type { Connection, Event, Process, Workload } from '@mamori/proto';
import {
  DEFAULT_PROC_ROOT,
  listPids,
  readProcess,
  readWorkload,
  type ProcfsOptions,
} from '../../procfs/index.js';
import type { EventPriority, Sensor, SensorContext, SensorStatus } from '../sensor.js';
import {
  SOCKET_TABLES,
  SocketState,
  decodeRow,
  isUnspecified,
  scanRows,
  socketFingerprint,
  type SocketEntry,
  type SocketTable,
} from './proc-net.js';
import { createSocketOwners } from './socket-owners.js';

export interface NetworkSensorOptions {
  /**
   * How often the socket tables are read, in milliseconds. Shorter finds shorter connections
   * and costs more CPU. @default 200
   */
  pollIntervalMs?: number;
  /**
   * How often every socket table is read even when the cheap counters did not move, in
   * milliseconds: the counters miss a UDP socket connected after it was bound, and a socket
   * closed and another opened of the same kind between two polls. @default 5000
   */
  fullReadIntervalMs?: number;
  /** Where procfs and the host's files are (the DaemonSet mounts the host's /proc at /host/proc). @default {} (/proc and /) */
  procfs?: ProcfsOptions;
  /**
   * Read the sockets of every network namespace on the node (each pod's), through one process
   * of each, not only the agent's own. @default true
   */
  allNamespaces?: boolean;
  /** The owning process of a socket. @default readProcess of ../../procfs, with `procfs` */
  readProcess?: (pid: number) => Promise<Process | undefined>;
  /** The workload of the owning process. @default readWorkload of ../../procfs, with `procfs` */
  readWorkload?: (pid: number) => Promise<Workload | undefined>;
}

/** What the network sensor has done since it started. */
export interface NetworkSensorStats {
  polls: number;
  /** Full scans of every process's descriptors (done only when a new socket's owner is unknown). */
  fullScans: number;
  emitted: number;
  /** New sockets whose owner was in no process the sensor can read (left unreported). */
  unowned: number;
}

export interface NetworkSensor extends Sensor {
  stats(): NetworkSensorStats;
}

/** Default poll interval, in milliseconds: catches most connections at a few ms of CPU a second. */
const DEFAULT_POLL_INTERVAL_MS = 200;
/** Default full read interval, in milliseconds: bounds how late the counters' blind spots are seen. */
const DEFAULT_FULL_READ_INTERVAL_MS = 5000;
/** Polls a new socket's owner is looked for before it is given up as unowned. */
const OWNER_ATTEMPTS = 2;

/** TCP states in which a socket has been connected (closing ones included, for short connections). */
const TCP_CONNECTED: ReadonlySet<number> = new Set([
  SocketState.Established,
  SocketState.FinWait1,
  SocketState.FinWait2,
  SocketState.CloseWait,
  SocketState.LastAck,
  SocketState.Closing,
]);

type Kind = 'network_listen' | 'network_connect' | 'network_accept';

interface Namespace {
  /** The process whose /proc/<pid>/net shows this namespace ('self' for the agent's own). */
  reader: string;
}

/**
 * The network sensor: listening sockets and connections (TCP and UDP, IPv4 and IPv6) with the
 * process that holds them, from /proc/net polled every `pollIntervalMs`. Each socket is
 * reported once, by inode: `network_listen` for a listener, `network_connect` for a connected
 * socket whose local port is no listener's, `network_accept` for one whose local port is.
 */
export function createNetworkSensor(options: NetworkSensorOptions = {}): NetworkSensor {
  const pollIntervalMs = options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
  const fullReadIntervalMs = options.fullReadIntervalMs ?? DEFAULT_FULL_READ_INTERVAL_MS;
  const procfs = options.procfs ?? {};
  const procRoot = procfs.procRoot ?? DEFAULT_PROC_ROOT;
  const allNamespaces = options.allNamespaces ?? true;
  const getProcess = options.readProcess ?? ((pid: number) => readProcess(pid, procfs));
  const getWorkload = options.readWorkload ?? ((pid: number) => readWorkload(pid, procfs));
  const owners = createSocketOwners(procRoot);
  const stats: NetworkSensorStats = { polls: 0, fullScans: 0, emitted: 0, unowned: 0 };

  let context: SensorContext | undefined;
  let log: Logger | undefined;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;

  /** Processes seen in the last poll → their network namespace ('' when not read). */
  const pidNamespace = new Map<number, string>();
  const namespaces = new Map<string, Namespace>();
  /** Inodes already reported (or given up on), among those present in the last poll. */
  const reported = new Set<number>();
  /** Inode → pid, for the sockets present in the last poll. */
  const ownerOf = new Map<number, number>();
  /** Listening sockets present: inode → `<netns>/<protocol>/<port>`. */
  const listenerOf = new Map<number, string>();
  /** UDP sockets seen bound without a peer once (a listener if still so at the next poll). */
  const boundOnce = new Set<number>();
  /** Some socket is in a passing state (connecting, owner not found): read the tables next poll. */
  let recheck = false;
  /** New sockets whose owner was not found yet → polls tried. */
  const attempts = new Map<number, number>();

  async function refreshProcesses(): Promise<number[]> {
    const pids = await listPids(procfs);
    const alive = new Set(pids);
    for (const pid of pidNamespace.keys()) if (!alive.has(pid)) pidNamespace.delete(pid);
    if (!allNamespaces) return pids;
    for (const pid of pids) {
      if (pidNamespace.has(pid)) continue;
      let netns = '';
      try {
        netns = await readlink(`${procRoot}/${pid}/ns/net`);
      } catch {
        // exited, or a kernel thread we may not read: not a reader of any namespace
      }
      pidNamespace.set(pid, netns);
      if (netns !== '' && !namespaces.has(netns)) namespaces.set(netns, { reader: String(pid) });
    }
    // A namespace whose reader exited is read through another of its processes, or dropped.
    for (const [netns, ns] of namespaces) {
      if (alive.has(Number(ns.reader))) continue;
      const next = [...pidNamespace].find(([, n]) => n === netns)?.[0];
      if (next === undefined) namespaces.delete(netns);
      else ns.reader = String(next);
    }
    return pids;
  }

  /** Per namespace: the last fingerprint and table texts, reused while nothing changed. */
  const tableCache = new Map<
    string,
    { tcp: string; udp: string; texts: Map<SocketTable, string> }
  >();
  let lastFullRead = 0;

  function readSmall(path: string): string {
    // Synchronous on purpose: these procfs files are a few hundred bytes and an async read
    // costs ten times the CPU of the read itself in promise and thread-pool overhead.
    try {
      return readFileSync(path, 'utf8');
    } catch {
      return '';
    }
  }

  /** The socket tables of every namespace, read again only where a fingerprint moved. */
  async function readTables(): Promise<{
    changed: boolean;
    tables: Array<{ netns: string; table: SocketTable; text: string }>;
  }> {
    const readers: Array<[string, string]> = allNamespaces
      ? [...namespaces].map(([netns, ns]) => [netns, ns.reader])
      : [['self', 'self']];
    for (const netns of tableCache.keys()) {
      if (!readers.some(([n]) => n === netns)) tableCache.delete(netns);
    }
    const full = recheck || Date.now() - lastFullRead >= fullReadIntervalMs;
    recheck = false;
    if (full) lastFullRead = Date.now();
    let changed = false;
    const tables: Array<{ netns: string; table: SocketTable; text: string }> = [];
    await Promise.all(
      readers.map(async ([netns, reader]) => {
        const dir = `${procRoot}/${reader}/net`;
        const print = socketFingerprint(
          readSmall(`${dir}/sockstat`),
          readSmall(`${dir}/sockstat6`),
          readSmall(`${dir}/snmp`),
        );
        let cache = tableCache.get(netns);
        if (!cache) {
          cache = { tcp: '', udp: '', texts: new Map() };
          tableCache.set(netns, cache);
        }
        const tcpMoved = cache.tcp !== print.tcp;
        const udpMoved = cache.udp !== print.udp;
        const stale = (table: SocketTable) =>
          full || !cache.texts.has(table) || (table.startsWith('tcp') ? tcpMoved : udpMoved);
        cache.tcp = print.tcp;
        cache.udp = print.udp;
        await Promise.all(
          SOCKET_TABLES.map(async (table) => {
            if (stale(table)) {
              changed = true;
              try {
                cache.texts.set(table, await readFile(`${dir}/${table}`, 'utf8'));
              } catch {
                // The reader exited (replaced next poll), or no IPv6 on this node.
                cache.texts.set(table, '');
              }
            }
            tables.push({ netns, table, text: cache.texts.get(table) ?? '' });
          }),
        );
      }),
    );
    return { changed, tables };
  }

  function classify(entry: SocketEntry): 'listen' | 'connected' | 'wait' | 'ignore' {
    if (entry.protocol === 'tcp') {
      if (entry.state === SocketState.Listen) return 'listen';
      if (TCP_CONNECTED.has(entry.state)) return 'connected';
      // Not connected yet (SYN_SENT): looked at again next poll.
      return entry.state === SocketState.SynSent ? 'wait' : 'ignore';
    }
    // UDP has no listen: a bound socket without a peer receives from anyone, a connected one
    // (state ESTABLISHED) talks to one peer.
    if (entry.state === SocketState.Established && !isUnspecified(entry.remoteAddress)) {
      return 'connected';
    }
    if (entry.state !== SocketState.Close || entry.localPort === 0) return 'ignore';
    // A client's socket is bound (to an ephemeral port) a moment before it is connected: a
    // bound socket is a listener only once it has stayed unconnected for a whole poll.
    if (boundOnce.has(entry.inode)) return 'listen';
    boundOnce.add(entry.inode);
    return 'wait';
  }

  async function poll(initial: boolean): Promise<void> {
    stats.polls++;
    const pids = await refreshProcesses();
    const { changed, tables } = await readTables();
    if (!changed) return;

    const present = new Set<number>();
    const fresh: Array<{ netns: string; entry: SocketEntry }> = [];
    for (const { netns, table, text } of tables) {
      for (const row of scanRows(text)) {
        present.add(row.inode);
        if (reported.has(row.inode)) continue;
        const entry = decodeRow(table, row.line);
        if (entry) fresh.push({ netns, entry });
      }
    }
    for (const inode of boundOnce) if (!present.has(inode)) boundOnce.delete(inode);
    for (const map of [ownerOf, listenerOf, attempts]) {
      for (const inode of map.keys()) if (!present.has(inode)) map.delete(inode);
    }
    for (const inode of reported) if (!present.has(inode)) reported.delete(inode);

    // Listeners first, so a connection on a port that started listening in the same poll is an accept.
    const candidates: Array<{ netns: string; entry: SocketEntry; kind: Kind }> = [];
    const verdicts = fresh.map(({ netns, entry }) => ({ netns, entry, verdict: classify(entry) }));
    for (const { netns, entry, verdict } of verdicts) {
      if (verdict !== 'listen') continue;
      listenerOf.set(entry.inode, `${netns}/${entry.protocol}/${entry.localPort}`);
      candidates.push({ netns, entry, kind: 'network_listen' });
    }
    const listening = new Set(listenerOf.values());
    for (const { netns, entry, verdict } of verdicts) {
      if (verdict === 'wait') recheck = true;
      if (verdict === 'ignore') reported.add(entry.inode); // never reported, never decoded again
      if (verdict !== 'connected') continue;
      const accepted = listening.has(`${netns}/${entry.protocol}/${entry.localPort}`);
      candidates.push({ netns, entry, kind: accepted ? 'network_accept' : 'network_connect' });
    }
    if (candidates.length === 0) return;

    await findOwners(candidates, pids);
    const processes = new Map<number, Promise<[Process | undefined, Workload | undefined]>>();
    for (const { entry, kind } of candidates) {
      const pid = ownerOf.get(entry.inode);
      if (pid === undefined) {
        const tried = (attempts.get(entry.inode) ?? 0) + 1;
        attempts.set(entry.inode, tried);
        if (tried < OWNER_ATTEMPTS) {
          recheck = true;
          continue;
        }
        stats.unowned++;
        reported.add(entry.inode);
        log?.debug(
          { inode: entry.inode, kind },
          'socket held by no readable process, not reported',
        );
        continue;
      }
      reported.add(entry.inode);
      attempts.delete(entry.inode);
      let owner = processes.get(pid);
      if (!owner) {
        owner = Promise.all([getProcess(pid), getWorkload(pid)]);
        processes.set(pid, owner);
      }
      const [process, workload] = await owner;
      if (!process) {
        stats.unowned++;
        continue; // exited between the scan and the read
      }
      emit(kind, entry, process, workload, initial);
    }
  }

  async function findOwners(
    candidates: Array<{ netns: string; entry: SocketEntry; kind: Kind }>,
    pids: number[],
  ): Promise<void> {
    const unknown = () => candidates.some(({ entry }) => !ownerOf.has(entry.inode));
    if (!unknown()) return;
    // Likely holders first: the processes that already hold sockets (servers accept, clients
    // connect again). A full scan only when one is still missing.
    const likely = new Set(ownerOf.values());
    if (likely.size > 0) {
      for (const [inode, pid] of await owners.scan(likely)) ownerOf.set(inode, pid);
      if (!unknown()) return;
    }
    stats.fullScans++;
    for (const [inode, pid] of await owners.scan(pids)) ownerOf.set(inode, pid);
  }

  function emit(
    kind: Kind,
    entry: SocketEntry,
    process: Process,
    workload: Workload | undefined,
    initial: boolean,
  ): void {
    const connection: Connection = {
      protocol: entry.protocol === 'tcp' ? 'L4_PROTOCOL_TCP' : 'L4_PROTOCOL_UDP',
      local_address: entry.localAddress,
      local_port: entry.localPort,
    };
    if (kind !== 'network_listen') {
      connection.remote_address = entry.remoteAddress;
      connection.remote_port = entry.remotePort;
    }
    const event: Event = {
      observed_unix_micros: Date.now() * 1000,
      labels: initial ? { sensor: 'network', snapshot: 'true' } : { sensor: 'network' },
      [kind]: { process, connection },
    };
    if (workload) event.workload = workload;
    // Sockets that were there when the agent started are old news: dropped first.
    const priority: EventPriority = initial || kind === 'network_accept' ? 'low' : 'high';
    if (context?.emit(event, priority)) stats.emitted++;
  }

  function schedule(): void {
    if (stopped) return;
    timer = setTimeout(() => {
      running = poll(false)
        .catch((err: unknown) => log?.warn({ err }, 'network poll failed, trying again next poll'))
        .finally(schedule);
    }, pollIntervalMs);
    timer.unref();
  }

  return {
    name: 'network',
    stats: () => ({ ...stats }),
    async start(ctx: SensorContext): Promise<SensorStatus> {
      context = ctx;
      log = ctx.logger;
      stopped = false;
      try {
        await poll(true);
      } catch (err) {
        // A sensor that cannot read procfs cannot run here at all.
        throw new MamoriError(ErrorCode.Config, 'the network sensor cannot read procfs', {
          cause: err,
          context: { procRoot },
        });
      }
      schedule();
      return {
        sensor: 'network',
        mode: `procfs-poll every ${pollIntervalMs} ms${allNamespaces ? ', every network namespace' : ''}`,
        limitations: [
          `connections shorter than the poll interval (${pollIntervalMs} ms) can be missed`,
          'sockets whose holder has exited or is in a process the agent cannot read are not reported',
          `between full reads (every ${fullReadIntervalMs} ms) the tables are read only when the kernel's socket counters move: a UDP socket connected after it was bound, or a socket opened while another of its kind closed, can be seen up to that late`,
          'a socket shared by several processes is reported with the lowest pid',
          'UDP has no listen: a bound socket without a peer is reported as network_listen, a connected one as network_connect',
          'sockets already open when the agent started are reported at low priority, labelled snapshot=true',
        ],
      };
    },
    async stop(): Promise<void> {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
