import { randomBytes } from 'node:crypto';
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import { createSilentLogger, type Logger } from '@mamori/common';
import type { Event } from '@mamori/proto';
import {
  createWaasEngine,
  isReportable,
  type LocalWaasSettings,
  type WaasEngine,
  type WaasJudgement,
  type WebApp,
} from './engine.js';
import { toHttpEvent, type SeenRequest } from './event.js';
import { endToEndHeaders, plainAddress, upstreamRequestHeaders } from './headers.js';

/** The response header that carries a blocked request's event id (also in the 403's body). */
export const EVENT_ID_HEADER = 'x-mamori-event-id';

/** Options of {@link createWaasProxy}. */
export interface WaasProxyOptions {
  /** Where to listen; port 0 picks a free one. */
  listen: { host: string; port: number };
  /** The application: `http://` or `https://`, with an optional path prefix. */
  upstream: URL | string;
  /**
   * Judges the requests; the agent's, so that the web application policies pushed to it apply.
   * @default an engine of its own with the `local` settings only
   */
  engine?: WaasEngine;
  /**
   * Paranoia, body limit (default 128 KiB: forms and API payloads; the rest of a longer body
   * is streamed on unread), share of clean requests reported (default 1 %: a baseline of
   * normal traffic without an event per request) and mode for requests no policy selects.
   * Ignored when `engine` is given.
   */
  local?: LocalWaasSettings;
  /** Receives an `http_request` event per request with findings and per sampled clean one. */
  emit?: (event: Event) => void;
  logger?: Logger;
  /** Event ids; the default is a random prefix per proxy and a counter. */
  newEventId?: () => string;
  /** For tests: the sampling's random source. @default Math.random */
  random?: () => number;
}

/** Counters of a running proxy. */
export interface WaasProxyStats {
  requests: number;
  blocked: number;
  alerted: number;
  emitted: number;
  /** Requests of a client refused again within a ban already reported: not sent as events. */
  repeats: number;
  upstreamErrors: number;
}

/** An inline WAF in front of one upstream; does not listen until started. */
export interface WaasProxy {
  /** Listens; resolves with the bound address. */
  start(): Promise<{ host: string; port: number }>;
  /** Stops listening, closes client connections and the upstream pool. */
  stop(): Promise<void>;
  stats(): WaasProxyStats;
}

/**
 * Throws: an upstream that is not an http(s) URL, or local settings the engine rejects (a body
 * limit that is not a non-negative integer, a sample share outside 0..1, a bad paranoia).
 */
export function createWaasProxy(options: WaasProxyOptions): WaasProxy {
  const upstream = new URL(options.upstream);
  if (upstream.protocol !== 'http:' && upstream.protocol !== 'https:') {
    throw new Error(`upstream: expected an http or https URL, got ${upstream.protocol}`);
  }
  const log = options.logger ?? createSilentLogger();
  const engine = options.engine ?? createWaasEngine({ local: options.local, logger: log });
  const random = options.random ?? Math.random;
  const runId = randomBytes(4).toString('hex');
  let counter = 0;
  const newEventId = options.newEventId ?? (() => `waas-${runId}-${(++counter).toString(36)}`);
  const transport = upstream.protocol === 'https:' ? https : http;
  // Connections to the upstream are kept and reused: a new TCP (and TLS) handshake per request
  // would cost more than the inspection. LIFO keeps the warm sockets busy and lets idle ones
  // time out.
  const agent = new transport.Agent({ keepAlive: true, maxFreeSockets: 256, scheduling: 'lifo' });
  const prefix = upstream.pathname.replace(/\/+$/, '');
  const stats: WaasProxyStats = {
    requests: 0,
    blocked: 0,
    alerted: 0,
    emitted: 0,
    repeats: 0,
    upstreamErrors: 0,
  };

  function emit(event: Event): void {
    if (!options.emit) return;
    try {
      options.emit(event);
      stats.emitted++;
    } catch (err) {
      log.warn({ err, eventId: event.id }, 'waas event not emitted');
    }
  }

  function judge(req: http.IncomingMessage, app: WebApp, body: Buffer): WaasJudgement {
    const request = {
      method: req.method ?? 'GET',
      url: req.url ?? '/',
      headers: req.headers as Record<string, string | string[]>,
      body: body.length === 0 ? '' : body.toString('utf8'),
    };
    try {
      return engine.judge(app, request, plainAddress(req.socket.remoteAddress));
    } catch (err) {
      // The engine never throws by contract; if it does, the application stays reachable.
      log.error({ err }, 'waas inspection failed; request let through');
      return { verdict: { action: 'allow', score: 0, findings: [] }, refuse: undefined, app };
    }
  }

  function seen(req: http.IncomingMessage, body: Buffer, complete: boolean): SeenRequest {
    const declared = Number(req.headers['content-length']);
    const host = req.headers.host ?? '';
    return {
      method: req.method ?? 'GET',
      url: req.url ?? '/',
      httpVersion: req.httpVersion,
      rawHeaders: req.rawHeaders,
      body,
      bodySize: complete || !Number.isFinite(declared) ? body.length : declared,
      clientAddress: plainAddress(req.socket.remoteAddress),
      clientPort: req.socket.remotePort ?? 0,
      serverName: host.replace(/:\d+$/, ''),
      serverPort: req.socket.localPort ?? 0,
      tls: false,
    };
  }

  function sendJson(
    res: http.ServerResponse,
    status: number,
    payload: unknown,
    headers: http.OutgoingHttpHeaders,
  ): void {
    const text = JSON.stringify(payload);
    res.writeHead(status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
      ...headers,
    });
    res.end(text);
  }

  /** Headers for an answer given before the request's body was read to its end. */
  function closing(complete: boolean): http.OutgoingHttpHeaders {
    // The unread rest of the body would otherwise be taken for the next request.
    return complete ? {} : { connection: 'close' };
  }

  function forward(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    body: Buffer,
    complete: boolean,
  ): void {
    const upReq = transport.request({
      agent,
      protocol: upstream.protocol,
      hostname: upstream.hostname,
      port: upstream.port,
      method: req.method,
      path: prefix + (req.url ?? '/'),
      headers: upstreamRequestHeaders(req.headers, {
        address: plainAddress(req.socket.remoteAddress),
        proto: 'http',
      }),
    });
    upReq.setNoDelay(true);
    upReq.on('response', (upRes) => {
      res.writeHead(upRes.statusCode ?? 502, upRes.statusMessage, endToEndHeaders(upRes.headers));
      upRes.pipe(res);
      upRes.once('error', (err) => res.destroy(err));
    });
    upReq.once('error', (err) => {
      stats.upstreamErrors++;
      req.unpipe(upReq);
      if (res.headersSent) {
        res.destroy(err);
        return;
      }
      log.warn({ err, upstream: upstream.origin }, 'upstream unreachable');
      sendJson(res, 502, { error: 'upstream unreachable' }, closing(req.complete));
    });
    // A client gone before the whole response leaves nothing to send it to.
    res.once('close', () => {
      if (!res.writableFinished) upReq.destroy();
    });
    if (complete) {
      if (body.length > 0) upReq.end(body);
      else upReq.end();
    } else {
      upReq.write(body);
      req.pipe(upReq);
    }
  }

  function decide(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    app: WebApp,
    body: Buffer,
    complete: boolean,
  ): void {
    const inspected = body.length > app.bodyLimit ? body.subarray(0, app.bodyLimit) : body;
    const judgement = judge(req, app, inspected);
    const { verdict, refuse } = judgement;
    if (judgement.repeat === true) stats.repeats++;
    const reportable = isReportable(judgement, random);
    let eventId = '';
    if (reportable) {
      eventId = newEventId();
      emit(
        toHttpEvent(eventId, seen(req, inspected, complete), verdict, Date.now() * 1000, {
          sensor: 'waas',
          enforced: refuse !== undefined,
          policy: app.policyId,
        }),
      );
      if (verdict.findings.length > 0) {
        log.info(
          {
            eventId,
            verdict: {
              action: verdict.action,
              score: verdict.score,
              categories: [...new Set(verdict.findings.map((f) => f.category))],
            },
          },
          'waas verdict',
        );
      }
    }
    if (verdict.action === 'alert') stats.alerted++;
    if (refuse !== undefined) {
      stats.blocked++;
      const headers: http.OutgoingHttpHeaders = {
        [EVENT_ID_HEADER]: eventId,
        ...closing(complete),
      };
      if (refuse.retryAfterSeconds !== undefined) {
        headers['retry-after'] = String(refuse.retryAfterSeconds);
      }
      sendJson(res, refuse.status, { blocked: true, eventId }, headers);
      return;
    }
    forward(req, res, body, complete);
  }

  function handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    stats.requests++;
    const app = engine.appFor(req.headers.host ?? '', req.url ?? '/');
    const bodyLimit = app.bodyLimit;
    const chunks: Buffer[] = [];
    let buffered = 0;
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      buffered += chunk.length;
      if (buffered < bodyLimit || bodyLimit === 0) return;
      // Enough to inspect: the rest stays in the socket until the upstream takes it (pipe),
      // so a large upload is never held in memory.
      req.off('data', onData);
      req.off('end', onEnd);
      req.pause();
      decide(req, res, app, Buffer.concat(chunks, buffered), false);
    };
    const onEnd = (): void => {
      req.off('data', onData);
      decide(req, res, app, Buffer.concat(chunks, buffered), true);
    };
    if (bodyLimit === 0) {
      decide(req, res, app, Buffer.alloc(0), req.complete);
      return;
    }
    req.on('data', onData);
    req.once('end', onEnd);
  }

  const server = http.createServer({ noDelay: true }, handle);
  server.on('clientError', (err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
    else socket.destroy(err);
  });

  return {
    async start() {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(options.listen.port, options.listen.host, () => {
          server.off('error', reject);
          resolve();
        });
      });
      const address = server.address() as AddressInfo;
      log.info(
        { listen: `${address.address}:${address.port}`, upstream: upstream.origin },
        'waas proxy listening',
      );
      return { host: address.address, port: address.port };
    },
    async stop() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      agent.destroy();
      await closed;
    },
    stats: () => ({ ...stats }),
  };
}
