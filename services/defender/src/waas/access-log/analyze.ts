import type { Event } from '@mamori/proto';
import { isReportable, type WaasEngine } from '../engine.js';
import { toHttpEvent } from '../event.js';
import type { AccessLogEntry } from './entry.js';
import { entryToRequest, entryToSeen } from './request.js';

/**
 * The `analyze` of the access-log sensor: each logged request is judged by the agent's engine
 * under the web application policy that selects it, as the proxy would judge it, and becomes
 * an http_request event (`sensor: access-log`, never `waas.enforced`: it was answered already)
 * when it has findings or is drawn as a sample of clean traffic. The event's time is the
 * request's, from the log.
 */
export function createAccessLogAnalyzer(
  engine: WaasEngine,
  random: () => number = Math.random,
): (entry: AccessLogEntry) => Event | undefined {
  return (entry) => {
    const request = entryToRequest(entry);
    const host = entry.serverName !== '' ? entry.serverName : String(request.headers.host ?? '');
    const app = engine.appFor(host, entry.url);
    if (request.body.length > app.bodyLimit) request.body = request.body.slice(0, app.bodyLimit);
    const judgement = engine.judge(app, request, entry.clientAddress);
    if (!isReportable(judgement, random)) return undefined;
    return toHttpEvent(
      '',
      entryToSeen(entry),
      judgement.verdict,
      entry.timeUnixMicros ?? Date.now() * 1000,
      {
        sensor: 'access-log',
        policy: app.policyId,
      },
    );
  };
}
