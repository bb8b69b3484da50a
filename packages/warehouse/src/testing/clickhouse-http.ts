/**
 * A test-only stand-in for a ClickHouse server: the part of ClickHouse's HTTP interface that
 * @clickhouse/client uses, answered by chDB in this process. No current ClickHouse server can
 * be installed on the build machines, so this is how the warehouse suite exercises the HTTP
 * path (`createClient({ url })`), and how the end-to-end tests run the store and the API as
 * separate processes on one warehouse (chDB binds a data directory to one process, so they
 * reach it over HTTP through the test process). Exported as `@mamori/warehouse/testing`; for
 * tests only, never for production.
 *
 * Supported: `GET|POST /ping`; `POST /` with the query in the body, or in the `query` URL
 * parameter followed by the body (inserts); `param_*` query parameters; `database`;
 * `default_format` (a FORMAT clause wins); other URL parameters as settings; credentials in
 * Basic auth or `X-ClickHouse-User`/`X-ClickHouse-Key`; gzip/deflate request bodies;
 * `X-ClickHouse-Summary`, `-Query-Id`, `-Format` and `-Timezone` response headers; errors as
 * HTTP 500 with ClickHouse's error text and `X-ClickHouse-Exception-Code`.
 *
 * Each request runs on a chDB session of its own on the one data directory, so settings,
 * parameters and `USE` of one request never leak into the next (within one chDB session
 * they would: SET is sticky there).
 */
import { randomUUID } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gunzip, inflate } from 'node:zlib';
import { Session } from 'chdb';

export interface ClickHouseHttpServerOptions {
  /** chDB data directory: the same one as any other chDB use in this process. */
  path: string;
  /** Accepted user and password. @default 'default' and '' */
  username?: string;
  password?: string;
}

export interface ClickHouseHttpServer {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** Requests answered so far (pings included). */
  requests(): number;
  close(): Promise<void>;
}

/** URL parameters that are not settings. */
const NOT_SETTINGS = new Set([
  'query',
  'query_id',
  'database',
  'default_format',
  'session_id',
  'session_timeout',
  'session_check',
  'role',
  'user',
  'password',
  'quota_key',
]);

/** Settings that only mean something to an HTTP server; chDB rejects them. */
const HTTP_ONLY_SETTINGS = new Set([
  'wait_end_of_query',
  'send_progress_in_http_headers',
  'http_headers_progress_interval_ms',
  'enable_http_compression',
  'http_zlib_compression_level',
  'http_response_buffer_size',
  'http_wait_end_of_query',
  'cancel_http_readonly_queries_on_client_close',
  'compress',
  'decompress',
]);

const unzip = { gzip: promisify(gunzip), deflate: promisify(inflate) } as const;

/** A ClickHouse string literal holding `text` verbatim. */
function literal(text: string): string {
  return `'${text.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  let body = Buffer.concat(chunks);
  const encoding = req.headers['content-encoding'];
  if (encoding === 'gzip' || encoding === 'deflate') body = await unzip[encoding](body);
  return body;
}

/** `INSERT … FORMAT X` with its data in the body, as @clickhouse/client sends inserts. */
const INSERT_WITH_DATA = /^(INSERT\s+INTO\s.+?)\s+FORMAT\s+(\w+)\s*$/is;

function credentials(req: IncomingMessage, url: URL): { user: string; key: string } {
  const basic = /^Basic (.+)$/i.exec(req.headers.authorization ?? '');
  if (basic?.[1]) {
    const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return { user: decoded.slice(0, colon), key: decoded.slice(colon + 1) };
  }
  const header = (name: string) => {
    const value = req.headers[name];
    return typeof value === 'string' ? value : undefined;
  };
  return {
    user: header('x-clickhouse-user') ?? url.searchParams.get('user') ?? 'default',
    key: header('x-clickhouse-key') ?? url.searchParams.get('password') ?? '',
  };
}

function sendError(res: ServerResponse, status: number, code: number, message: string): void {
  res.writeHead(status, {
    'Content-Type': 'text/plain; charset=UTF-8',
    'X-ClickHouse-Exception-Code': String(code),
  });
  res.end(`${message}\n`);
}

/**
 * Starts the stand-in on an ephemeral port of 127.0.0.1.
 * @throws Error from chDB when the directory cannot be opened (another one is bound).
 */
export async function startClickHouseHttpServer(
  options: ClickHouseHttpServerOptions,
): Promise<ClickHouseHttpServer> {
  const username = options.username ?? 'default';
  const password = options.password ?? '';
  // Held open for the server's life, so that per-request sessions come and go cheaply.
  const anchor = new Session(options.path);
  let requests = 0;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    requests++;
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === '/ping') {
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=UTF-8' });
      res.end('Ok.\n');
      return;
    }
    const { user, key } = credentials(req, url);
    if (user !== username || key !== password) {
      sendError(
        res,
        403,
        516,
        `Code: 516. DB::Exception: ${user}: Authentication failed: password is incorrect, or there is no user with such name. (AUTHENTICATION_FAILED)`,
      );
      return;
    }
    const body = await readBody(req);
    const inUrl = url.searchParams.get('query');
    let query: string;
    let dataFile: string | undefined;
    const insert = inUrl === null ? null : INSERT_WITH_DATA.exec(inUrl);
    if (insert && body.length > 0) {
      // The data as bytes, the way a server reads it: an SQL string would mangle non-UTF-8
      // bytes (events keep their protobuf bytes). chDB reads a file as clickhouse-local does.
      dataFile = join(tmpdir(), `clickhouse-http-${randomUUID()}.data`);
      await writeFile(dataFile, body);
      query = `${insert[1]} FROM INFILE ${literal(dataFile)} FORMAT ${insert[2]}`;
    } else {
      const text = body.toString('utf8');
      query = inUrl === null ? text : text === '' ? inUrl : `${inUrl}\n${text}`;
    }
    const prelude: string[] = [];
    const database = url.searchParams.get('database');
    if (database) prelude.push(`USE ${database}`);
    for (const [name, value] of url.searchParams) {
      if (name.startsWith('param_')) {
        prelude.push(`SET ${name} = ${literal(value)}`);
      } else if (!NOT_SETTINGS.has(name) && !HTTP_ONLY_SETTINGS.has(name)) {
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
          sendError(
            res,
            400,
            115,
            `Code: 115. DB::Exception: Unknown setting '${name}'. (UNKNOWN_SETTING)`,
          );
          return;
        }
        prelude.push(`SET ${name} = ${/^-?\d+(\.\d+)?$/.test(value) ? value : literal(value)}`);
      }
    }
    const format = url.searchParams.get('default_format') ?? 'TabSeparated';
    const queryId = url.searchParams.get('query_id') ?? randomUUID();
    const session = new Session(options.path);
    try {
      const result = await session.queryAsync([...prelude, query].join(';\n'), { format });
      const bytes = result.bytes();
      const summary = {
        read_rows: String(result.rowsRead),
        read_bytes: String(result.bytesRead),
        written_rows: '0',
        written_bytes: '0',
        total_rows_to_read: '0',
        result_rows: '0',
        result_bytes: String(bytes.byteLength),
        elapsed_ns: String(Math.round(result.elapsed * 1e9)),
      };
      res.writeHead(200, {
        'Content-Type': 'text/plain; charset=UTF-8',
        'X-ClickHouse-Query-Id': queryId,
        'X-ClickHouse-Format': format,
        'X-ClickHouse-Timezone': 'UTC',
        'X-ClickHouse-Server-Display-Name': 'chdb-http-stand-in',
        'X-ClickHouse-Summary': JSON.stringify(summary),
      });
      res.end(bytes);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      const code = /^Code: (\d+)\./.exec(message)?.[1] ?? '1001';
      sendError(res, 500, Number(code), message);
    } finally {
      session.close();
      if (dataFile !== undefined) await rm(dataFile, { force: true });
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent)
        sendError(res, 500, 1001, `Code: 1001. DB::Exception: ${String(err)}. (STD_EXCEPTION)`);
      else res.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests: () => requests,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) =>
        server.close((err) => (err ? reject(err) : resolve())),
      );
      anchor.close();
    },
  };
}
