/**
 * `npm run bench:proxy`: the latency the defender's inline WAF proxy adds. An application
 * (node:http, a small JSON answer) and the proxy in front of it run as child processes; this
 * process sends `--rate` requests a second, open-loop (paced by the clock, never waiting for
 * answers), over keep-alive connections, straight to the application and through the proxy
 * in alternating blocks (so that what else the machine does falls on both paths alike).
 * Prints one JSON object on its last line with both latency distributions and
 * `addedLatencyMs` (proxied minus direct at the same percentile).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { createWaasProxy } from '@mamori/defender';
import { positive, runMain } from '../support/args.js';
import { percentile } from '../support/stats.js';

const USAGE = `npm run bench:proxy -- [options]

  --seconds N    how long each phase (direct, proxied) sends (default 20)
  --rate N       requests a second, open-loop (default 1000)
  --warmup N     seconds of unmeasured traffic on each path before measuring (default 3)
  --rounds N     the measured seconds of each path come in N alternating blocks, direct then
                 proxied, so that a change in the machine's load falls on both (default 5)
  --paranoia N   the proxy's paranoia, 1 to 4 (default 1)
`;

const ANSWER = JSON.stringify({
  items: Array.from({ length: 5 }, (_, i) => ({ id: 1000 + i, name: `item ${i}`, price: 9.5 })),
});

/** The application: answers every request with the same small JSON once its body is read. */
async function runUpstream(): Promise<void> {
  const server = http.createServer({ noDelay: true, keepAliveTimeout: 60_000 }, (req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(ANSWER),
      });
      res.end(ANSWER);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  process.send?.({ port: (server.address() as AddressInfo).port });
}

/** The proxy in front of the application; events go to a counter (their cost is measured). */
async function runProxy(upstreamPort: number, paranoia: 1 | 2 | 3 | 4): Promise<void> {
  let events = 0;
  const proxy = createWaasProxy({
    listen: { host: '127.0.0.1', port: 0 },
    upstream: `http://127.0.0.1:${upstreamPort}`,
    local: { paranoia },
    emit: () => {
      events++;
    },
  });
  const { port } = await proxy.start();
  // An exit rather than death by signal: `node --cpu-prof` writes the profile on exit.
  process.once('SIGTERM', () => process.exit(0));
  process.send?.({ port });
  process.on('message', (m) => {
    if (m === 'stats') process.send?.({ stats: { ...proxy.stats(), events } });
  });
}

/** Starts this script in a role as a child process; resolves with the port it listens on. */
async function child(args: string[]): Promise<{ proc: ChildProcess; port: number }> {
  const proc = fork(process.argv[1]!, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const [message] = (await Promise.race([
    once(proc, 'message'),
    once(proc, 'exit').then(() => {
      throw new Error(`${args.join(' ')} exited before listening`);
    }),
  ])) as [{ port: number }];
  return { proc, port: message.port };
}

const QUERIES = ['shoes', 'red dress', 'summer sale', 'café au lait', "o'brien", 'size 42'];

/** Typical API traffic: searches with a few parameters, headers and cookies; 20 % JSON posts. */
function requestOptions(i: number): { path: string; method: string; body?: string } {
  if (i % 5 === 4) {
    return {
      method: 'POST',
      path: '/api/cart',
      body: JSON.stringify({ item: 1000 + (i % 50), quantity: 1 + (i % 3), note: QUERIES[i % 6] }),
    };
  }
  const q = encodeURIComponent(QUERIES[i % QUERIES.length]!);
  return { method: 'GET', path: `/api/products?q=${q}&page=${1 + (i % 9)}&sort=price&lang=de` };
}

interface Phase {
  latenciesMs: number[];
  errors: number;
  statuses: Record<string, number>;
}

/**
 * Sends `rate` requests a second for `seconds` to a port: each request starts at its own slot
 * on the clock, whether or not earlier ones have been answered (open-loop). Latency is from the
 * request's write to the end of its answer.
 */
async function phase(port: number, rate: number, seconds: number): Promise<Phase> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256, scheduling: 'lifo' });
  const result: Phase = { latenciesMs: [], errors: 0, statuses: {} };
  const total = Math.round(rate * seconds);
  const start = performance.now();
  let sent = 0;
  let pending = 0;
  let finished!: () => void;
  const done = new Promise<void>((resolve) => (finished = resolve));
  const fire = (i: number): void => {
    const o = requestOptions(i);
    pending++;
    const began = performance.now();
    const req = http.request(
      {
        agent,
        host: '127.0.0.1',
        port,
        method: o.method,
        path: o.path,
        headers: {
          'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/126.0',
          accept: 'application/json',
          cookie: 'session=3f9a1c; theme=dark',
          ...(o.body === undefined
            ? {}
            : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(o.body) }),
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => {
          result.latenciesMs.push(performance.now() - began);
          const key = String(res.statusCode);
          result.statuses[key] = (result.statuses[key] ?? 0) + 1;
          settle();
        });
      },
    );
    req.setNoDelay(true);
    req.on('error', () => {
      result.errors++;
      settle();
    });
    req.end(o.body);
  };
  const settle = (): void => {
    pending--;
    if (sent === total && pending === 0) finished();
  };
  // A timer a millisecond apart sends every request whose slot has come: with Node's timer
  // granularity this keeps the average rate exact and each request at most ~1 ms late.
  const timer = setInterval(() => {
    const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * rate));
    while (sent < due) fire(sent++);
    if (sent === total) clearInterval(timer);
  }, 1);
  await done;
  agent.destroy();
  return result;
}

function merge(into: Phase, from: Phase): void {
  into.latenciesMs.push(...from.latenciesMs);
  into.errors += from.errors;
  for (const [status, n] of Object.entries(from.statuses)) {
    into.statuses[status] = (into.statuses[status] ?? 0) + n;
  }
}

function ms(n: number): number {
  return Math.round(n * 1000) / 1000;
}

function distribution(samples: readonly number[]): Record<string, number> {
  return {
    p50: ms(percentile(samples, 50)),
    p90: ms(percentile(samples, 90)),
    p99: ms(percentile(samples, 99)),
    p999: ms(percentile(samples, 99.9)),
    max: ms(percentile(samples, 100)),
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      role: { type: 'string' },
      'upstream-port': { type: 'string' },
      seconds: { type: 'string', default: '20' },
      rate: { type: 'string', default: '1000' },
      warmup: { type: 'string', default: '3' },
      paranoia: { type: 'string', default: '1' },
      rounds: { type: 'string', default: '5' },
      help: { type: 'boolean', default: false },
    },
  });
  const paranoia = Number(values.paranoia);
  if (![1, 2, 3, 4].includes(paranoia)) throw new Error('--paranoia: expected 1, 2, 3 or 4');
  if (values.role === 'upstream') return runUpstream();
  if (values.role === 'proxy') {
    return runProxy(positive('upstream-port', values['upstream-port']), paranoia as 1 | 2 | 3 | 4);
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const seconds = positive('seconds', values.seconds);
  const rate = positive('rate', values.rate);
  const warmup = Number(values.warmup);
  const rounds = positive('rounds', values.rounds);
  const upstream = await child(['--role', 'upstream']);
  const proxy = await child([
    '--role',
    'proxy',
    '--upstream-port',
    String(upstream.port),
    '--paranoia',
    String(paranoia),
  ]);
  try {
    // Warm both paths (JIT, connection pools) before measuring.
    if (warmup > 0) {
      await phase(upstream.port, rate, warmup);
      await phase(proxy.port, rate, warmup);
    }
    const direct: Phase = { latenciesMs: [], errors: 0, statuses: {} };
    const proxied: Phase = { latenciesMs: [], errors: 0, statuses: {} };
    const block = seconds / rounds;
    for (let round = 0; round < rounds; round++) {
      merge(direct, await phase(upstream.port, rate, block));
      merge(proxied, await phase(proxy.port, rate, block));
    }
    proxy.proc.send('stats');
    const [{ stats }] = (await once(proxy.proc, 'message')) as [{ stats: unknown }];
    const d = direct.latenciesMs;
    const p = proxied.latenciesMs;
    const report = {
      benchmark: 'proxy',
      rate,
      seconds,
      rounds,
      paranoia,
      direct: { requests: d.length, errors: direct.errors, latencyMs: distribution(d) },
      proxied: {
        requests: p.length,
        errors: proxied.errors,
        statuses: proxied.statuses,
        latencyMs: distribution(p),
      },
      addedLatencyMs: {
        p50: ms(percentile(p, 50) - percentile(d, 50)),
        p90: ms(percentile(p, 90) - percentile(d, 90)),
        p99: ms(percentile(p, 99) - percentile(d, 99)),
      },
      proxyStats: stats,
    };
    process.stdout.write(`${JSON.stringify(report)}\n`);
  } finally {
    upstream.proc.kill();
    proxy.proc.kill();
  }
}

runMain('bench:proxy', main);
