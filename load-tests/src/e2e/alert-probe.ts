import { protoType, type Event } from '@mamori/proto';
import { CONTAINERS, eventOrigin } from '../ingest/events.js';

/**
 * The alert probe's event: a miner started in one of the cluster's containers, which fires the
 * built-in rule "Crypto miner started" (CRITICAL) — by the process name `xmrig` and by the
 * `stratum+tcp://` pool URL of its command line — and nothing else of the built-ins. The
 * simulated agent gives each one a fresh id; its alert carries it as `eventId`.
 */

/** Marks the probe's command line, so that its alerts are told apart by eye too. */
export const ALERT_PROBE_MARKER = 'mamori-bench-alert-probe';

/** The probe's event, encoded, without id and times (the simulated agent adds those). */
export function alertProbeTemplate(): Buffer {
  const event: Event = {
    ...eventOrigin(CONTAINERS[0]!, 'node-0', 'runtime'),
    process_exec: {
      process: {
        pid: 4242,
        ppid: 4200,
        name: 'xmrig',
        exe: '/tmp/xmrig',
        args: ['/tmp/xmrig', '-o', 'stratum+tcp://pool.example.net:3333', '-u', ALERT_PROBE_MARKER],
        cwd: '/tmp',
        uid: 1000,
        gid: 1000,
        user: 'app',
        start_unix_micros: 1_764_000_000_000_000,
        ancestors: [
          { pid: 4200, name: 'sh', exe: '/bin/sh', args: ['sh', '-c', './xmrig'] },
          { pid: 1, name: 'tini', exe: '/sbin/tini', args: ['tini', '--'] },
        ],
        stdin_type: 'pipe',
        stdout_type: 'pipe',
        stderr_type: 'pipe',
      },
    },
  };
  const type = protoType('mamori.v1.Event');
  return Buffer.from(type.encode(type.fromObject(event)).finish());
}
