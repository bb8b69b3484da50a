/**
 * `mamori waas inspect [--paranoia N] [--openapi SPEC]`: requests as JSON Lines on stdin
 * (`{"method","url","headers","body"}`), one verdict a line on stdout
 * (`{"action","score","findings"}`), as DESIGN.md's "Commands that measure the product" says.
 */
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { createInspector, toHttpRequest, type Paranoia } from '@mamori/waas';

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
      positives (default 1).
`;

/** Runs `mamori waas …` with the words after `waas`; resolves to the exit code. */
export async function runWaasCommand(args: readonly string[], io: WaasIo): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'inspect') {
    io.err(WAAS_USAGE);
    return sub === undefined || sub === 'help' || sub === '--help' ? 0 : 2;
  }
  let paranoia: Paranoia = 1;
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
      io.err('--openapi: API schema enforcement is not supported yet\n');
      return 2;
    } else {
      io.err(`unknown option ${rest[i]}\n${WAAS_USAGE}`);
      return 2;
    }
  }
  const inspector = createInspector({ paranoia });
  let lineNumber = 0;
  let bad = 0;
  for await (const raw of io.lines()) {
    lineNumber++;
    const line = raw.trim();
    if (line === '') continue;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch (err) {
      bad++;
      const why = err instanceof Error ? err.message : String(err);
      io.out(`${JSON.stringify({ error: `line ${lineNumber}: not JSON: ${why}` })}\n`);
      continue;
    }
    const request = toHttpRequest(json);
    if ('error' in request) {
      bad++;
      io.out(`${JSON.stringify({ error: `line ${lineNumber}: ${request.error}` })}\n`);
      continue;
    }
    io.out(`${JSON.stringify(inspector.inspect(request))}\n`);
  }
  return bad > 0 ? 1 : 0;
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
