import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { createSilentLogger } from '@mamori/common';
import type { Connection, Event } from '@mamori/proto';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createNetworkSensor,
  type NetworkSensor,
} from '../../../src/sensors/network/network-sensor.js';

// A server on 127.0.0.1 and ::1 (TCP listening, UDP bound) that prints its ports, and a client
// that connects to each: two real processes, so the events must name each one.
const SERVER = `
const net = require('node:net'); const dgram = require('node:dgram');
const open = [];
const tcp = (host) => new Promise((r) => { const s = net.createServer((c) => open.push(c)); s.listen(0, host, () => r(s.address().port)); });
const udp = (type, host) => new Promise((r) => { const s = dgram.createSocket(type); s.bind(0, host, () => r(s.address().port)); });
Promise.all([tcp('127.0.0.1'), tcp('::1'), udp('udp4', '127.0.0.1'), udp('udp6', '::1')])
  .then(([tcp4, tcp6, udp4, udp6]) => console.log(JSON.stringify({ tcp4, tcp6, udp4, udp6 })));
setInterval(() => {}, 1000);
`;
const CLIENT = `
const net = require('node:net'); const dgram = require('node:dgram');
const p = JSON.parse(process.argv[1]);
net.connect(p.tcp4, '127.0.0.1'); net.connect(p.tcp6, '::1');
dgram.createSocket('udp4').connect(p.udp4, '127.0.0.1'); dgram.createSocket('udp6').connect(p.udp6, '::1');
setInterval(() => {}, 1000);
`;

interface Ports {
  tcp4: number;
  tcp6: number;
  udp4: number;
  udp6: number;
}

const children: ChildProcess[] = [];
let sensor: NetworkSensor | undefined;

afterEach(async () => {
  await sensor?.stop();
  sensor = undefined;
  for (const child of children.splice(0)) child.kill('SIGKILL');
});

function run(script: string, ...args: string[]): ChildProcess {
  const child = spawn(process.execPath, ['-e', script, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  return child;
}

async function startServer(): Promise<{ pid: number; ports: Ports }> {
  const server = run(SERVER);
  const lines = createInterface({ input: server.stdout! });
  const [line] = (await once(lines, 'line')) as [string];
  return { pid: server.pid!, ports: JSON.parse(line) as Ports };
}

async function startSensor(events: Event[]): Promise<NetworkSensor> {
  sensor = createNetworkSensor({ pollIntervalMs: 50 });
  await sensor.start({
    logger: createSilentLogger(),
    emit: (event) => {
      events.push(event);
      return true;
    },
  });
  return sensor;
}

interface Seen extends Connection {
  pid: number | undefined;
}

function find(
  events: Event[],
  kind: 'network_listen' | 'network_connect' | 'network_accept',
): Seen[] {
  return events.flatMap((e) => {
    const payload = e[kind];
    return payload ? [{ pid: payload.process?.pid, ...payload.connection }] : [];
  });
}

describe('network sensor', () => {
  it('reports listeners, the client connect and the server accept of TCP and UDP over IPv4 and IPv6 with each process', async () => {
    const events: Event[] = [];
    await startSensor(events);
    const server = await startServer();
    const { ports } = server;

    await expect
      .poll(() => find(events, 'network_listen'), { timeout: 10_000 })
      .toEqual(
        expect.arrayContaining([
          {
            pid: server.pid,
            protocol: 'L4_PROTOCOL_TCP',
            local_address: '127.0.0.1',
            local_port: ports.tcp4,
          },
          {
            pid: server.pid,
            protocol: 'L4_PROTOCOL_TCP',
            local_address: '::1',
            local_port: ports.tcp6,
          },
          {
            pid: server.pid,
            protocol: 'L4_PROTOCOL_UDP',
            local_address: '127.0.0.1',
            local_port: ports.udp4,
          },
          {
            pid: server.pid,
            protocol: 'L4_PROTOCOL_UDP',
            local_address: '::1',
            local_port: ports.udp6,
          },
        ]),
      );

    const client = run(CLIENT, JSON.stringify(ports));
    const remote = (protocol: string, address: string, port: number): unknown =>
      expect.objectContaining({
        pid: client.pid,
        protocol,
        remote_address: address,
        remote_port: port,
      });
    await expect
      .poll(() => find(events, 'network_connect'), { timeout: 10_000 })
      .toEqual(
        expect.arrayContaining([
          remote('L4_PROTOCOL_TCP', '127.0.0.1', ports.tcp4),
          remote('L4_PROTOCOL_TCP', '::1', ports.tcp6),
          remote('L4_PROTOCOL_UDP', '127.0.0.1', ports.udp4),
          remote('L4_PROTOCOL_UDP', '::1', ports.udp6),
        ]),
      );
    const clientPorts = find(events, 'network_connect').filter((c) => c.pid === client.pid);
    const tcpClient4 = clientPorts.find((c) => c.remote_port === ports.tcp4)!;
    const tcpClient6 = clientPorts.find((c) => c.remote_port === ports.tcp6)!;
    await expect
      .poll(() => find(events, 'network_accept'), { timeout: 10_000 })
      .toEqual(
        expect.arrayContaining([
          {
            pid: server.pid,
            protocol: 'L4_PROTOCOL_TCP',
            local_address: '127.0.0.1',
            local_port: ports.tcp4,
            remote_address: '127.0.0.1',
            remote_port: tcpClient4.local_port,
          },
          {
            pid: server.pid,
            protocol: 'L4_PROTOCOL_TCP',
            local_address: '::1',
            local_port: ports.tcp6,
            remote_address: '::1',
            remote_port: tcpClient6.local_port,
          },
        ]),
      );
    // The process is the full one procfs reads, and nothing of the test's own is an accept.
    const accept = events.find((e) => e.network_accept?.process?.pid === server.pid);
    expect(accept?.network_accept?.process?.exe).toBe(process.execPath);
    expect(find(events, 'network_accept').filter((a) => a.pid === client.pid)).toEqual([]);
    // A client's UDP socket is bound a moment before it is connected: still no listener.
    expect(find(events, 'network_listen').filter((l) => l.pid === client.pid)).toEqual([]);
  });

  it('reports each socket once however many polls see it', async () => {
    const events: Event[] = [];
    const running = await startSensor(events);
    const server = await startServer();
    run(CLIENT, JSON.stringify(server.ports));
    await expect
      .poll(() => find(events, 'network_accept').filter((a) => a.pid === server.pid).length, {
        timeout: 10_000,
      })
      .toBe(2);
    const polls = running.stats().polls;
    await expect.poll(() => running.stats().polls, { timeout: 10_000 }).toBeGreaterThan(polls + 5);
    const ours = events.filter(
      (e) =>
        (e.network_listen ?? e.network_accept ?? e.network_connect)?.process?.pid === server.pid,
    );
    expect(ours).toHaveLength(6); // 4 listeners, 2 accepts
  });
});
