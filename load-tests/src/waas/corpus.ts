/**
 * Runs the WAF development corpora through `mamori waas inspect` (the built CLI, as a user
 * would: JSON Lines in, verdicts out) and prints, per category, the share of attack payloads
 * blocked and of benign inputs blocked (JSON on the last line). A tool for developers, not a
 * test: `node load-tests/dist/waas/corpus.js --corpus ../shared/corpora/waf-dev`;
 * `--in-process` calls the inspector directly instead (faster while iterating on detectors).
 *
 * - `libinjection/*.txt`: one payload a line (`#` comments); `sqli-*` and `xss-*` are attacks,
 *   `false_positives.txt` is benign. Each payload goes in as `?q=<payload>` (URL-encoded) and,
 *   as a second placement, as a URL-encoded form field.
 * - `gotestwaf/**.yml`: GoTestWAF's test cases (`payload`, `encoder`, `placeholder`, `type`),
 *   built into requests as GoTestWAF builds them; files under `false-pos/` are benign.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createInspector, type HttpRequest, type Paranoia, type Verdict } from '@mamori/waas';
import { parse as parseYaml } from 'yaml';

interface Case {
  /** `libinjection/sqli`, `gotestwaf/SQL Injection`, … */
  category: string;
  attack: boolean;
  request: HttpRequest;
  /** Where it came from, for --show. */
  source: string;
}

const { values: args } = parseArgs({
  options: {
    corpus: { type: 'string', default: '../shared/corpora/waf-dev' },
    paranoia: { type: 'string', default: '1' },
    show: { type: 'string' },
    'in-process': { type: 'boolean', default: false },
  },
});

/** The built CLI, next to this script's package in the repository. */
const CLI = fileURLToPath(new URL('../../../services/cli/dist/main.js', import.meta.url));

/** Verdicts of `mamori waas inspect` on the requests, in their order. */
async function inspectWithCli(
  requests: readonly HttpRequest[],
  level: Paranoia,
): Promise<Verdict[]> {
  const child = spawn(process.execPath, [CLI, 'waas', 'inspect', '--paranoia', String(level)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const verdicts: Verdict[] = [];
  const reading = (async () => {
    for await (const line of createInterface({ input: child.stdout })) {
      const parsed = JSON.parse(line) as Verdict | { error: string };
      if ('error' in parsed) throw new Error(`mamori waas inspect: ${parsed.error}`);
      verdicts.push(parsed);
    }
  })();
  for (const request of requests) {
    if (!child.stdin.write(`${JSON.stringify(request)}\n`)) {
      await new Promise((resolve) => child.stdin.once('drain', resolve));
    }
  }
  child.stdin.end();
  await reading;
  const code = await exited;
  if (code !== 0) throw new Error(`mamori waas inspect exited with ${String(code)}`);
  if (verdicts.length !== requests.length) {
    throw new Error(
      `mamori waas inspect answered ${verdicts.length} of ${requests.length} requests`,
    );
  }
  return verdicts;
}

/** The parameter name GoTestWAF would draw at random; fixed so that runs compare. */
const PARAM = 'a1b2c3d4';
const BOUNDARY = 'mamoriCorpusBoundary';

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...walk(path));
    else out.push(path);
  }
  return out;
}

// ---- libinjection ----

function libinjectionCases(dir: string): Case[] {
  const cases: Case[] = [];
  for (const file of readdirSync(dir).sort()) {
    if (!file.endsWith('.txt')) continue;
    const benign = file === 'false_positives.txt';
    const kind = file.startsWith('sqli-') ? 'sqli' : file.startsWith('xss-') ? 'xss' : undefined;
    if (!benign && kind === undefined) continue;
    const lines = readFileSync(join(dir, file), 'utf8').split('\n');
    lines.forEach((line, i) => {
      const payload = line.replace(/\r$/, '');
      if (payload.trim() === '' || payload.startsWith('#')) return;
      const source = `${file}:${i + 1}`;
      const category = `libinjection/${benign ? 'benign' : kind!}`;
      const encoded = encodeURIComponent(payload);
      cases.push({
        category: `${category} (query)`,
        attack: !benign,
        source,
        request: { method: 'GET', url: `/search?q=${encoded}`, headers: {} },
      });
      cases.push({
        category: `${category} (form)`,
        attack: !benign,
        source,
        request: {
          method: 'POST',
          url: '/search',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: `q=${encoded}`,
        },
      });
    });
  }
  return cases;
}

// ---- GoTestWAF ----

/** Go's url.QueryEscape: space as `+`, unreserved characters kept. */
function queryEscape(s: string): string {
  return encodeURIComponent(s)
    .replace(/%20/g, '+')
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** JSUnicode: every UTF-16 unit as `\uXXXX`. */
function jsUnicode(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) out += `\\u${s.charCodeAt(i).toString(16).padStart(4, '0')}`;
  return out;
}

/** Go's xml.EscapeText inside `<string>…</string>` (what xml.Encoder.Encode writes for a string). */
function xmlEntity(s: string): string {
  const escaped = s.replace(/[&<>"'\t\n\r]/g, (c) =>
    c === '&'
      ? '&amp;'
      : c === '<'
        ? '&lt;'
        : c === '>'
          ? '&gt;'
          : c === '"'
            ? '&#34;'
            : c === "'"
              ? '&#39;'
              : c === '\t'
                ? '&#x9;'
                : c === '\n'
                  ? '&#xA;'
                  : '&#xD;',
  );
  return `<string>${escaped}</string>`;
}

function encode(encoder: string, payload: string): string | undefined {
  switch (encoder) {
    case 'Plain':
      return payload;
    case 'URL':
      return queryEscape(payload);
    case 'Base64':
      return Buffer.from(payload).toString('base64');
    case 'Base64Flat':
      return Buffer.from(payload).toString('base64').replace(/=/g, '');
    case 'JSUnicode':
      return jsUnicode(payload);
    case 'XMLEntity':
      return xmlEntity(payload);
    default:
      return undefined;
  }
}

const SOAP = (tag: string, value: string): string =>
  `<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">
\t<soapenv:Body>
\t\t<getAdUnitsByStatement xmlns="https://www.google.com/apis/ads/publisher/v202002">
\t\t\t<filterStatement>
\t\t\t\t<${tag}>${value}</${tag}>
\t\t\t</filterStatement>
\t\t</getAdUnitsByStatement>
\t</soapenv:Body>
</soapenv:Envelope>`;

/** A request as GoTestWAF's placeholder builds it, or undefined for one it cannot be (gRPC). */
function placeholderRequest(placeholder: unknown, payload: string): HttpRequest | undefined {
  const [name, config] =
    typeof placeholder === 'string'
      ? [placeholder, {}]
      : (Object.entries(placeholder as Record<string, Record<string, unknown>>)[0] ?? ['', {}]);
  switch (name) {
    case 'URLParam':
      return { method: 'GET', url: `/?${PARAM}=${payload}`, headers: {} };
    case 'URLPath':
      return { method: 'GET', url: `/${payload}`, headers: {} };
    case 'Header':
      return { method: 'GET', url: '/', headers: { [`X-${PARAM}`]: payload } };
    case 'UserAgent':
      return { method: 'GET', url: '/', headers: { 'User-Agent': payload } };
    case 'JSONBody':
      return {
        method: 'POST',
        url: '/',
        headers: { 'Content-Type': 'application/json' },
        body: payload,
      };
    case 'JSONRequest':
      return {
        method: 'POST',
        url: '/',
        headers: { 'Content-Type': 'application/json' },
        body: `{"test":true, "${PARAM}": "${jsUnicode(payload)}"}`,
      };
    case 'HTMLForm':
      return {
        method: 'POST',
        url: '/',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: `${PARAM}=${payload}`,
      };
    case 'HTMLMultipartForm':
      return {
        method: 'POST',
        url: '/',
        headers: { 'Content-Type': `multipart/form-data; boundary=${BOUNDARY}` },
        body:
          `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${PARAM}"\r\n\r\n` +
          `${payload}\r\n--${BOUNDARY}--\r\n`,
      };
    case 'RequestBody':
      return { method: 'POST', url: '/', headers: {}, body: payload };
    case 'XMLBody':
      return { method: 'POST', url: '/', headers: { 'Content-Type': 'text/xml' }, body: payload };
    case 'SOAPBody':
      return {
        method: 'POST',
        url: '/',
        headers: {
          'Content-Type': 'text/xml',
          SOAPAction: '"http://schemas.xmlsoap.org/soap/actor/next"',
        },
        body: SOAP(`ab${PARAM}`, xmlEntity(payload)),
      };
    case 'GraphQL':
      return config['method'] === 'POST'
        ? { method: 'POST', url: '/graphql', headers: {}, body: payload }
        : { method: 'GET', url: `/graphql?query=${queryEscape(payload)}`, headers: {} };
    case 'RawRequest': {
      const fill = (s: unknown): string =>
        (typeof s === 'string' ? s : '').split('{{payload}}').join(payload);
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries((config['headers'] as Record<string, unknown>) ?? {})) {
        headers[k] = fill(v);
      }
      const body = fill(config['body']);
      return {
        method: fill(config['method'] ?? 'GET'),
        url: fill(config['path'] ?? '/'),
        headers,
        ...(body === '' ? {} : { body }),
      };
    }
    default:
      return undefined;
  }
}

interface TestFile {
  payload?: unknown[];
  encoder?: unknown[];
  placeholder?: unknown[];
  type?: unknown;
}

function gotestwafCases(dir: string, skipped: Map<string, number>): Case[] {
  const cases: Case[] = [];
  for (const path of walk(dir)) {
    if (!path.endsWith('.yml') && !path.endsWith('.yaml')) continue;
    const rel = relative(dir, path);
    const benign = rel.startsWith('false-pos');
    let doc: TestFile;
    const text = readFileSync(path, 'utf8');
    try {
      // GoTestWAF's YAML reader (Go's yaml.v2) accepts `\'` in double quotes; YAML 1.2 does not.
      doc = parseYaml(text.replace(/\\'/g, "'")) as TestFile;
    } catch (err) {
      process.stderr.write(`${rel}: not YAML: ${String(err)}\n`);
      continue;
    }
    const type = benign ? 'benign' : typeof doc.type === 'string' ? doc.type : 'unknown';
    for (const payload of doc.payload ?? []) {
      for (const encoder of doc.encoder ?? ['Plain']) {
        const encoded = encode(String(encoder), String(payload));
        for (const placeholder of doc.placeholder ?? []) {
          const name =
            typeof placeholder === 'string'
              ? placeholder
              : (Object.keys(placeholder as object)[0] ?? '');
          const request =
            encoded === undefined ? undefined : placeholderRequest(placeholder, encoded);
          if (request === undefined) {
            const why =
              encoded === undefined ? `encoder ${String(encoder)}` : `placeholder ${name}`;
            skipped.set(why, (skipped.get(why) ?? 0) + 1);
            continue;
          }
          cases.push({
            category: `gotestwaf/${type}`,
            attack: !benign,
            source: `${rel} ${String(encoder)} ${name}`,
            request,
          });
        }
      }
    }
  }
  return cases;
}

// ---- run ----

const paranoia = Number(args.paranoia) as Paranoia;
const skipped = new Map<string, number>();
const cases = [
  ...libinjectionCases(join(args.corpus, 'libinjection')),
  ...gotestwafCases(join(args.corpus, 'gotestwaf'), skipped),
];

interface Tally {
  attack: boolean;
  total: number;
  blocked: number;
  alerted: number;
}
const tallies = new Map<string, Tally>();
const started = process.hrtime.bigint();
let verdicts: Verdict[];
if (args['in-process']) {
  const inspector = createInspector({ paranoia });
  verdicts = cases.map((c) => inspector.inspect(c.request));
} else {
  verdicts = await inspectWithCli(
    cases.map((c) => c.request),
    paranoia,
  );
}
for (const [i, c] of cases.entries()) {
  const verdict = verdicts[i]!;
  const t = tallies.get(c.category) ?? { attack: c.attack, total: 0, blocked: 0, alerted: 0 };
  t.total++;
  if (verdict.action === 'block') t.blocked++;
  if (verdict.action === 'alert') t.alerted++;
  tallies.set(c.category, t);
  const show = args.show;
  if (show !== undefined && c.category.startsWith(show)) {
    const wrong = c.attack ? verdict.action !== 'block' : verdict.action === 'block';
    if (wrong)
      process.stdout.write(`${c.source}\t${verdict.action}\t${JSON.stringify(c.request)}\n`);
  }
}
const seconds = Number(process.hrtime.bigint() - started) / 1e9;

const pct = (n: number, d: number): number => (d === 0 ? 0 : Math.round((n / d) * 10_000) / 100);
const categories: Record<
  string,
  { kind: string; total: number; blockedPercent: number; alertedPercent: number }
> = {};
const sum = { attack: { total: 0, blocked: 0 }, benign: { total: 0, blocked: 0 } };
for (const [name, t] of [...tallies].sort(([a], [b]) => a.localeCompare(b))) {
  categories[name] = {
    kind: t.attack ? 'attack' : 'benign',
    total: t.total,
    blockedPercent: pct(t.blocked, t.total),
    alertedPercent: pct(t.alerted, t.total),
  };
  const s = t.attack ? sum.attack : sum.benign;
  s.total += t.total;
  s.blocked += t.blocked;
  process.stderr.write(
    `${name.padEnd(44)} ${t.attack ? 'attack' : 'benign'} ${String(t.total).padStart(6)}  blocked ${pct(t.blocked, t.total).toFixed(2).padStart(6)} %\n`,
  );
}
const report = {
  paranoia,
  via: args['in-process'] ? 'inspector' : 'mamori waas inspect',
  requests: cases.length,
  seconds: Math.round(seconds * 100) / 100,
  attacksBlockedPercent: pct(sum.attack.blocked, sum.attack.total),
  benignBlockedPercent: pct(sum.benign.blocked, sum.benign.total),
  skipped: Object.fromEntries(skipped),
  categories,
};
process.stdout.write(`${JSON.stringify(report)}\n`);
