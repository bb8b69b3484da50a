import type { Event } from '@mamori/proto';
import { describe, expect, it } from 'vitest';
import { batchRuns } from '../../src/app.js';

const byteBoundedBatches = (events: Event[], maxBytes?: number): Event[][] =>
  batchRuns(events, maxBytes).map((run) => run.events);
import { EVENT_BODY_BYTES, toHttpEvent, type SeenRequest } from '../../src/waas/event.js';

function seen(body: Buffer): SeenRequest {
  return {
    method: 'POST',
    url: '/upload',
    httpVersion: '1.1',
    rawHeaders: ['Host', 'files.example', 'Authorization', 'Bearer s3cret'],
    body,
    bodySize: body.length,
    clientAddress: '203.0.113.5',
    clientPort: 40000,
    serverName: 'files.example',
    serverPort: 8080,
    tls: false,
  };
}

const blocked = {
  action: 'block' as const,
  score: 6,
  findings: [
    {
      category: 'cmdi' as const,
      location: 'body',
      evidence: '; cat /etc/passwd',
      confidence: 0.95,
      reason: 'a command after a separator',
    },
  ],
};

describe('http_request events of the WAAS', () => {
  it('keep the first 32 KiB of a body with its full size, and never a credential', () => {
    const event = toHttpEvent('e-1', seen(Buffer.alloc(100_000, 0x61)), blocked, 1, {
      enforced: true,
      policy: 'files',
    });
    expect(event.http_request?.body).toHaveLength(EVENT_BODY_BYTES);
    expect(event.http_request?.body_size).toBe(100_000);
    expect(event.http_request?.headers).toContainEqual({
      name: 'Authorization',
      value: '[redacted]',
    });
    expect(event.labels).toEqual({
      sensor: 'waas',
      'waas.action': 'block',
      'waas.enforced': 'true',
      'waas.policy': 'files',
      'waas.score': '6',
      'waas.categories': 'cmdi',
      'waas.locations': 'body',
      'waas.reason': 'a command after a separator',
      'waas.evidence': '; cat /etc/passwd',
    });
  });

  it('go to ingest in batches under 4 MiB, in order, however large their bodies', () => {
    const events = Array.from({ length: 300 }, (_, i) =>
      toHttpEvent(`e-${i}`, seen(Buffer.alloc(EVENT_BODY_BYTES, 0x62)), blocked, i),
    );
    const batches = byteBoundedBatches(events);
    expect(batches.length).toBeGreaterThan(2);
    expect(batches.flat().map((e) => e.id)).toEqual(events.map((e) => e.id));
    const small = events.slice(0, 10);
    expect(byteBoundedBatches(small)).toEqual([small]);
    expect(byteBoundedBatches(events.slice(0, 1), 10)).toHaveLength(1);
  });
});
