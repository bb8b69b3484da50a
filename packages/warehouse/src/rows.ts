import { createEventCodec, type Event__Output } from '@mamori/proto';

/** A row of the `events` table, as read back (inserts write `EVENT_ROW_COLUMNS`). */
export interface EventRow {
  tenant_id: string;
  agent_id: string;
  id: string;
  kind: string;
  hostname: string;
  namespace: string;
  pod_name: string;
  container_id: string;
  container_name: string;
  container_runtime: string;
  privileged: boolean;
  image_repository: string;
  image_tag: string;
  image_digest: string;
  process_name: string;
  pid: number;
  command_line: string;
  path: string;
  labels: Record<string, string>;
}

/** The payload kinds of `mamori.v1.Event` (its `payload` oneof). */
export type EventKind = NonNullable<Event__Output['payload']>;

const codec = createEventCodec();

/**
 * The payload message (the oneof member) of a stored event, from the event's protobuf bytes
 * in base64, as JSON-ready values: bytes (HttpRequest.body) become base64 rather than arrays
 * of numbers. Only rows a query returns are decoded (at most a page).
 * @throws Error when the bytes are not an Event: the column only ever holds what the store
 * wrote, so that is a bug or a damaged table.
 */
export function storedPayload(eventBase64: string): object {
  const event = codec.decode(Buffer.from(eventBase64, 'base64'));
  if (event.payload === 'http_request' && event.http_request) {
    return { ...event.http_request, body: Buffer.from(event.http_request.body).toString('base64') };
  }
  return (event.payload === undefined ? undefined : event[event.payload]) ?? {};
}
