/**
 * `mamori waas inspect [--paranoia N] [--openapi SPEC]`: requests as JSON Lines on stdin
 * (`{"method","url","headers","body"}`), one verdict a line on stdout
 * (`{"action","score","findings"}`), as DESIGN.md's "Commands that measure the product" says.
 * `mamori waas discover [--title TEXT]`: the same requests (with an optional `status`), an
 * OpenAPI 3 document of what they show on stdout.
 */
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import {
  type ApiSchema,
  CATEGORY_WEIGHTS,
  createApiDiscovery,
  createApiSchema,
  createInspector,
  DEFAULT_THRESHOLDS,
  type HttpRequest,
  type Inspector,
  type Paranoia,
  toHttpRequest,
  type Verdict,
} from '@mamori/waas';

/** Where the command reads and writes; the process's own in main.ts. */
export interface WaasIo {
  /** Lines of stdin. */
  lines(): AsyncIterable<string>;
  out(text: string): void;
  err(text: string): void;
}

export const WAAS_USAGE = `Usage:
  mamori waas inspect [--paranoia 1|2|3|4] [--openapi SPEC]
      reads HTTP requests as JSON Lines on stdin ({"method","url","headers","body"}, with
      "bodyEncoding":"base64" for binary bodies) and writes one verdict a line
      ({"action":"allow"|"alert"|"block","score","findings":[…]}); a line that is not a request
      gets {"error":"line N: …"} and the rest goes on. --paranoia trades recall for false
      positives (default 1). --openapi SPEC (an OpenAPI 3.0/3.1 file, JSON or YAML) adds
      "api-schema" findings for unknown paths and methods and for parameters and bodies that
      break the schema; they alert, and block together with other findings.
  mamori waas discover [--title TEXT]
      reads the same requests (a "status" field, when present, is the response's: requests
      answered 400 or more are not learned) and writes the endpoints, methods, parameters and
      JSON bodies they show as one OpenAPI 3.0.3 document (JSON) on stdout; a line that is not
      a request is reported on stderr as "line N: …" and skipped (exit code 1).
`;

/** Runs `mamori waas …` with the words after `waas`; resolves to the exit code. */
export async function runWaasCommand(args: readonly string[], io: WaasIo): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'discover') return discover(rest, io);
  if (sub !== 'inspect') {
    io.err(WAAS_USAGE);
    return sub === undefined || sub === 'help' || sub === '--help' ? 0 : 2;
  }
  let paranoia: Paranoia = 1;
  let specFile: string | undefined;
  for (let i = 0; i < rest.length; i++) {
    const [flag, inline] = rest[i]!.split('=', 2) as [string, string | undefined];
    const value = inline ?? rest[i + 1];
    if (flag === '--paranoia') {
      if (value === undefined || !['1', '2', '3', '4'].includes(value)) {
        io.err(`--paranoia must be 1, 2, 3 or 4, not ${value ?? 'nothing'}\n`);
        return 2;
      }
      paranoia = Number(value) as Paranoia;
      if (inline === undefined) i++;
    } else if (flag === '--openapi') {
      if (value === undefined || value === '') {
        io.err('--openapi needs the path of an OpenAPI document\n');
        return 2;
      }
      specFile = value;
      if (inline === undefined) i++;
    } else {
      io.err(`unknown option ${rest[i]}\n${WAAS_USAGE}`);
      return 2;
    }
  }
  const inspector = createInspector({ paranoia });
  let api: ApiSchema | undefined;
  if (specFile !== undefined) {
    try {
      api = createApiSchema(await readFile(specFile, 'utf8'));
    } catch (err) {
      io.err(`--openapi ${specFile}: ${err instanceof Error ? err.message : String(err)}\n`);
      return 2;
    }
    for (const problem of api.problems) io.err(`--openapi ${specFile}: ${problem}\n`);
  }
  let bad = 0;
  for await (const read of requestLines(io)) {
    if ('error' in read) {
      bad++;
      io.out(`${JSON.stringify({ error: read.error })}\n`);
      continue;
    }
    io.out(`${JSON.stringify(judge(inspector, api, read.request))}\n`);
  }
  return bad > 0 ? 1 : 0;
}

/**
 * The inspector's verdict with the API schema's findings added and scored as the inspector
 * scores (CATEGORY_WEIGHTS, DEFAULT_THRESHOLDS): the inspector takes no findings from outside.
 */
function judge(inspector: Inspector, api: ApiSchema | undefined, request: HttpRequest): Verdict {
  const verdict = inspector.inspect(request);
  if (api === undefined) return verdict;
  const extra = api.validate(request);
  if (extra.length === 0) return verdict;
  let score = verdict.score;
  for (const f of extra) {
    score += CATEGORY_WEIGHTS[f.category] * Math.min(1, Math.max(0, f.confidence));
  }
  score = Math.round(score * 100) / 100;
  const action =
    score >= DEFAULT_THRESHOLDS.block
      ? 'block'
      : score >= DEFAULT_THRESHOLDS.alert
        ? 'alert'
        : 'allow';
  const findings = [...verdict.findings, ...extra].sort((a, b) => b.confidence - a.confidence);
  return { action, score, findings };
}

/** `mamori waas discover`: requests in, one OpenAPI document out. */
async function discover(rest: readonly string[], io: WaasIo): Promise<number> {
  let title: string | undefined;
  for (let i = 0; i < rest.length; i++) {
    const [flag, inline] = rest[i]!.split('=', 2) as [string, string | undefined];
    const value = inline ?? rest[i + 1];
    if (flag === '--title' && value !== undefined && value !== '') {
      title = value;
      if (inline === undefined) i++;
    } else {
      io.err(`unknown option ${rest[i]}\n${WAAS_USAGE}`);
      return 2;
    }
  }
  const discovery = createApiDiscovery(title === undefined ? {} : { title });
  let bad = 0;
  for await (const read of requestLines(io)) {
    if ('error' in read) {
      bad++;
      io.err(`${read.error}\n`);
      continue;
    }
    const status = (read.json as { status?: unknown }).status;
    discovery.observe(read.request, typeof status === 'number' ? status : undefined);
  }
  io.out(`${JSON.stringify(discovery.toOpenApi(), null, 2)}\n`);
  if (discovery.dropped > 0) {
    io.err(`${discovery.dropped} requests not learned: the endpoint limit was reached\n`);
  }
  return bad > 0 ? 1 : 0;
}

/**
 * The requests of JSON Lines on stdin, blank lines skipped; a line that is not a request is an
 * error naming its line number and why.
 */
async function* requestLines(
  io: WaasIo,
): AsyncIterable<{ request: HttpRequest; json: unknown } | { error: string }> {
  let lineNumber = 0;
  for await (const raw of io.lines()) {
    lineNumber++;
    const line = raw.trim();
    if (line === '') continue;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      yield { error: `line ${lineNumber}: not JSON: ${why}` };
      continue;
    }
    const request = toHttpRequest(json);
    yield 'error' in request
      ? { error: `line ${lineNumber}: ${request.error}` }
      : { request, json };
  }
}

/** Lines of a stream (stdin). */
export function streamLines(input: Readable): AsyncIterable<string> {
  return createInterface({ input, crlfDelay: Infinity });
}

/** The process's own streams. */
export const processWaasIo: WaasIo = {
  lines: () => streamLines(process.stdin),
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};
