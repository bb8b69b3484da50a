import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from './logger.js';

/** What a readiness check answers: ready, or not ready and why. */
export type Readiness = { ready: true } | { ready: false; reason: string };

/** Whether a service can take work now; may be asynchronous (a ping) and may throw. */
export type ReadinessCheck = () => Readiness | Promise<Readiness>;

/** The part of a prom-client `Registry` the ops server uses (so common needs no prom-client). */
export interface MetricsSource {
  readonly contentType: string;
  metrics(): Promise<string>;
}

export interface OpsServerOptions {
  /** Interface to listen on. */
  host: string;
  /** Port to listen on; 0 picks a free one (tests). */
  port: number;
  /** Decides `/readyz`. */
  ready: ReadinessCheck;
  /** Serves `/metrics`. */
  metrics: MetricsSource;
  logger: Logger;
  /**
   * Longest a readiness check may take before `/readyz` answers 503, in ms.
   * @default 2000 (a probe must answer within Kubernetes' default 1 s timeout times a few retries)
   */
  readyTimeoutMs?: number;
}

/** A started ops server. */
export interface OpsServer {
  /** The bound port (the actual one when 0 was asked for). */
  readonly port: number;
  /** Stops listening and ends open connections. Idempotent. */
  close(): Promise<void>;
}

/**
 * Runs a readiness check with a timeout; a check that throws or times out is not ready.
 * Never throws.
 */
export async function checkReadiness(check: ReadinessCheck, timeoutMs: number): Promise<Readiness> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      Promise.resolve().then(check),
      new Promise<Readiness>((resolve) => {
        timer = setTimeout(
          () =>
            resolve({ ready: false, reason: `readiness check timed out after ${timeoutMs} ms` }),
          timeoutMs,
        );
      }),
    ]);
  } catch (err) {
    return { ready: false, reason: `readiness check failed: ${(err as Error).message}` };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * One readiness check over several named ones (the services of one process): ready when all
 * are; otherwise the reasons of those that are not, each prefixed with its name.
 */
export function allReady(checks: Readonly<Record<string, ReadinessCheck>>): ReadinessCheck {
  const entries = Object.entries(checks);
  return async () => {
    const results = await Promise.all(
      entries.map(async ([name, check]) => ({ name, readiness: await check() })),
    );
    const reasons = results.flatMap(({ name, readiness }) =>
      readiness.ready ? [] : [`${name}: ${readiness.reason}`],
    );
    return reasons.length === 0 ? { ready: true } : { ready: false, reason: reasons.join('; ') };
  };
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  response.end(text);
}

/**
 * Starts the HTTP server of a service's operational endpoints: `GET /healthz` (200 while the
 * process runs), `GET /readyz` (200 when `ready` says so, else 503 with the reason) and
 * `GET /metrics` (Prometheus text). Other paths answer 404; other methods on these paths 405.
 * @throws Error when the address cannot be bound (EADDRINUSE, EACCES).
 */
export async function startOpsServer(options: OpsServerOptions): Promise<OpsServer> {
  const { logger } = options;
  const readyTimeoutMs = options.readyTimeoutMs ?? 2000;

  async function route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = (request.url ?? '/').split('?', 1)[0];
    if (path !== '/healthz' && path !== '/readyz' && path !== '/metrics') {
      sendJson(response, 404, { error: 'not found' });
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.setHeader('allow', 'GET, HEAD');
      sendJson(response, 405, { error: 'method not allowed' });
      return;
    }
    if (path === '/healthz') {
      sendJson(response, 200, { status: 'live' });
    } else if (path === '/readyz') {
      const readiness = await checkReadiness(options.ready, readyTimeoutMs);
      if (readiness.ready) sendJson(response, 200, { status: 'ready' });
      else sendJson(response, 503, { status: 'not ready', reason: readiness.reason });
    } else {
      const text = await options.metrics.metrics();
      response.writeHead(200, {
        'content-type': options.metrics.contentType,
        'content-length': Buffer.byteLength(text),
      });
      response.end(text);
    }
  }

  const server = createServer((request, response) => {
    route(request, response).catch((err: unknown) => {
      logger.error({ err, url: request.url }, 'ops endpoint failed');
      if (!response.headersSent) sendJson(response, 500, { error: 'internal error' });
      else response.destroy();
    });
  });
  // Probes and scrapes are short requests; an idle connection is not worth holding at close.
  server.keepAliveTimeout = 5000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  server.on('error', (err) => logger.error({ err }, 'ops server error'));

  let closed: Promise<void> | undefined;
  return {
    port,
    close() {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closed;
    },
  };
}
