import * as grpc from '@grpc/grpc-js';
import { backoffDelay, type Logger } from '@mamori/common';
import {
  MAX_SERVER_MESSAGE_BYTES,
  protoType,
  type AgentMessage,
  type BatchAck__Output,
  type Command__Output,
  type CommandResult,
  type PolicyUpdate__Output,
  type ServerMessage__Output,
  type Welcome__Output,
} from '@mamori/proto';
import type { Spool } from '../spool/spool.js';

/** What the link needs to know and whom it tells. */
export interface IngestLinkOptions {
  /** host:port of ingest. */
  address: string;
  credentials: grpc.ChannelCredentials;
  token: string;
  hello: {
    agentId: string;
    hostname: string;
    version: string;
    capabilities: readonly string[];
  };
  spool: Spool;
  logger: Logger;
  /** The version of the policy set the agent enforces now ('' for none), sent in each Hello. */
  policyVersion(): string;
  onWelcome?(welcome: Welcome__Output): void;
  onPolicy(update: PolicyUpdate__Output): void;
  onCommand(command: Command__Output): Promise<CommandResult>;
  /** Batches sent and not yet acknowledged, at most. @default 4 */
  window?: number;
  /** Reconnect delays: full jitter up to min(maxMs, initialMs × 2^attempt). @default 500 / 30000 */
  backoff?: { initialMs: number; maxMs: number };
  /** How long a Hello waits for its Welcome, in ms. @default 10000 */
  welcomeTimeoutMs?: number;
}

export interface LinkStats {
  connected: boolean;
  /** Streams opened with a Welcome, over the link's life. */
  sessions: number;
  /** Batches acknowledged as accepted or duplicate, refused for good, and retried. */
  acked: number;
  rejected: number;
  retried: number;
}

/** The defender's stream to ingest: hello, batches from the spool, acknowledgements, pushes. */
export interface IngestLink {
  /** Connects, and keeps reconnecting (with backoff) until stopped. */
  start(): void;
  /** New batches are in the spool: send them if the window allows. */
  wake(): void;
  stats(): LinkStats;
  stop(): Promise<void>;
}

const CONNECT = '/mamori.v1.DefenderService/Connect';
const AGENT_MESSAGE = protoType('mamori.v1.AgentMessage');
const SERVER_MESSAGE = protoType('mamori.v1.ServerMessage');
/** AgentMessage field 2 (batch), wire type 2: the tag byte before an encoded EventBatch. */
const BATCH_TAG = 0x12;

function varint(value: number): Buffer {
  const bytes: number[] = [];
  let v = value;
  while (v >= 0x80) {
    bytes.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  bytes.push(v);
  return Buffer.from(bytes);
}

/** An AgentMessage to write: a message object, or a batch already encoded in the spool. */
type Outgoing = AgentMessage | { encodedBatch: Buffer };

function serialize(message: Outgoing): Buffer {
  if ('encodedBatch' in message) {
    // The spool holds each batch as the EventBatch's bytes: framed as AgentMessage.batch here
    // rather than decoded into objects and encoded again.
    const { encodedBatch } = message;
    return Buffer.concat([Buffer.from([BATCH_TAG]), varint(encodedBatch.length), encodedBatch]);
  }
  return Buffer.from(AGENT_MESSAGE.encode(AGENT_MESSAGE.fromObject(message)).finish());
}

function deserialize(bytes: Buffer): ServerMessage__Output {
  return SERVER_MESSAGE.toObject(SERVER_MESSAGE.decode(bytes), {
    longs: Number,
    enums: String,
    defaults: true,
    oneofs: true,
  });
}

/**
 * Creates the link. Batches go out in sequence order from the spool, at most `window` at a
 * time; the spool forgets a batch once ingest accepted it and every batch before it (acks of
 * later batches are remembered until the gap closes). A RETRY pauses sending for the time ingest
 * asks and then sends again from the first batch not accepted; a broken stream reconnects with
 * exponential backoff and full jitter, forever, and sends again everything not accepted.
 */
export function createIngestLink(options: IngestLinkOptions): IngestLink {
  const { spool, logger } = options;
  const window = options.window ?? 4;
  const backoff = options.backoff ?? { initialMs: 500, maxMs: 30_000 };
  const client = new grpc.Client(options.address, options.credentials, {
    // Keepalive: a platform that vanished without closing the stream (a dead node, a cut
    // network) is noticed within about 30 s, not after the kernel's TCP timeout.
    'grpc.keepalive_time_ms': 15_000,
    'grpc.keepalive_timeout_ms': 10_000,
    'grpc.keepalive_permit_without_calls': 1,
    // The tenant's policy set arrives whole, and may pass gRPC's default 4 MiB.
    'grpc.max_receive_message_length': MAX_SERVER_MESSAGE_BYTES,
  });
  const stats: LinkStats = { connected: false, sessions: 0, acked: 0, rejected: 0, retried: 0 };
  /** Accepted sequences above the spool's acknowledged prefix, waiting for the gap to close. */
  const acceptedAbove = new Set<number>();
  let stopped = false;
  let running: Promise<void> | undefined;
  let call: grpc.ClientDuplexStream<Outgoing, ServerMessage__Output> | undefined;
  /** Sent on the current stream and not acknowledged yet. */
  const inFlight = new Set<number>();
  /** The highest sequence sent on the current stream. */
  let cursor = 0;
  let pausedUntil = 0;
  let pumping = false;
  let pumpAgain = false;
  let wakeSleep: () => void = () => undefined;
  let pauseTimer: NodeJS.Timeout | undefined;

  async function acceptUpTo(sequence: number): Promise<void> {
    acceptedAbove.add(sequence);
    let next = spool.stats().acked;
    while (acceptedAbove.has(next + 1)) acceptedAbove.delete(++next);
    for (const s of acceptedAbove) if (s <= next) acceptedAbove.delete(s);
    if (next > spool.stats().acked) await spool.ack(next);
  }

  /** Sends pending batches while the window has room. One pump at a time. */
  async function pump(): Promise<void> {
    if (pumping) {
      pumpAgain = true;
      return;
    }
    pumping = true;
    try {
      do {
        pumpAgain = false;
        const current = call;
        if (current === undefined || !stats.connected || Date.now() < pausedUntil) return;
        const room = window - inFlight.size;
        if (room <= 0) return;
        const batches = (await spool.read(cursor, room + acceptedAbove.size)).filter(
          (b) => !acceptedAbove.has(b.sequence),
        );
        for (const batch of batches.slice(0, room)) {
          if (call !== current) return;
          inFlight.add(batch.sequence);
          cursor = Math.max(cursor, batch.sequence);
          current.write({ encodedBatch: batch.bytes });
        }
      } while (pumpAgain);
    } catch (err) {
      logger.warn({ err }, 'could not read batches from the spool; trying again on the next batch');
    } finally {
      pumping = false;
    }
  }

  async function onAck(ack: BatchAck__Output): Promise<void> {
    inFlight.delete(ack.sequence);
    switch (ack.status) {
      case 'ACK_STATUS_ACCEPTED':
      case 'ACK_STATUS_DUPLICATE':
        stats.acked++;
        if (ack.rejections.length > 0) {
          logger.warn(
            { sequence: ack.sequence, rejected: ack.rejections.length, first: ack.rejections[0] },
            'ingest refused events of a batch; they are not sent again',
          );
        }
        await acceptUpTo(ack.sequence);
        break;
      case 'ACK_STATUS_REJECTED':
        // Sending it again would fail again: it is dropped, and said loudly.
        stats.rejected++;
        logger.error(
          { sequence: ack.sequence, reason: ack.reason, first: ack.rejections[0] },
          'ingest refused a whole batch; it is dropped',
        );
        await acceptUpTo(ack.sequence);
        break;
      default: {
        // RETRY (or a status this agent does not know): everything not accepted goes again.
        stats.retried++;
        const delay = Math.max(ack.retry_after_ms, 100);
        pausedUntil = Date.now() + delay;
        inFlight.clear();
        cursor = spool.stats().acked;
        clearTimeout(pauseTimer);
        pauseTimer = setTimeout(() => void pump(), delay);
        logger.info(
          { sequence: ack.sequence, retryAfterMs: delay },
          'ingest asked to resend later',
        );
        return;
      }
    }
    await pump();
  }

  /** One stream: resolves when it ends, rejects when it could not be opened. */
  function session(): Promise<boolean> {
    return new Promise((resolve) => {
      const metadata = new grpc.Metadata();
      metadata.set('authorization', `Bearer ${options.token}`);
      const stream = client.makeBidiStreamRequest<Outgoing, ServerMessage__Output>(
        CONNECT,
        serialize,
        deserialize,
        metadata,
      );
      call = stream;
      let welcomed = false;
      const welcomeTimer = setTimeout(() => {
        logger.warn({ address: options.address }, 'no welcome from ingest in time; reconnecting');
        stream.cancel();
      }, options.welcomeTimeoutMs ?? 10_000);
      let handling: Promise<void> = Promise.resolve();
      stream.on('data', (message: ServerMessage__Output) => {
        handling = handling
          .then(async () => {
            if (message.message === 'welcome' && message.welcome) {
              clearTimeout(welcomeTimer);
              welcomed = true;
              const welcome = message.welcome;
              const last = welcome.last_sequence;
              if (last >= spool.stats().nextSequence) {
                // Ingest remembers sequences of this instance that the spool never wrote (its
                // state was lost, or an ingest from before instance ids numbered by agent id).
                // Numbering goes on after them, or new batches would be taken for duplicates.
                logger.warn(
                  { lastSequence: last, nextSequence: spool.stats().nextSequence },
                  'ingest knows later batches of this agent than the spool; numbering continues after them',
                );
                await spool.advance(last);
              }
              // Everything up to the last sequence is durable: nothing of it goes again.
              if (last > spool.stats().acked) await spool.ack(last);
              for (const s of acceptedAbove) if (s <= spool.stats().acked) acceptedAbove.delete(s);
              stats.connected = true;
              stats.sessions++;
              inFlight.clear();
              cursor = spool.stats().acked;
              pausedUntil = 0;
              logger.info(
                {
                  tenant: welcome.tenant_id,
                  session: welcome.session_id,
                  lastSequence: welcome.last_sequence,
                  pending: spool.stats().pending,
                },
                'connected to ingest',
              );
              options.onWelcome?.(welcome);
              await pump();
            } else if (message.message === 'ack' && message.ack) {
              await onAck(message.ack);
            } else if (message.message === 'policy' && message.policy) {
              options.onPolicy(message.policy);
            } else if (message.message === 'command' && message.command) {
              const result = await options.onCommand(message.command);
              if (call === stream) stream.write({ command_result: result });
            }
          })
          .catch((err: unknown) => logger.error({ err }, 'could not handle a message from ingest'));
      });
      stream.on('error', (err: grpc.ServiceError) => {
        // The status event follows; the error is what to log.
        if (stopped) return;
        if (err.code === grpc.status.ALREADY_EXISTS) {
          // Another agent with this id is connected; trying again finds out when it is gone.
          logger.error(
            { code: err.code, details: err.details, instanceId: spool.instanceId },
            'ingest refused this agent: another agent with the same id is connected; give each agent its own id (MAMORI_DEFENDER_AGENT_ID)',
          );
        } else {
          logger.warn({ code: err.code, details: err.details }, 'stream to ingest failed');
        }
      });
      stream.on('status', () => {
        clearTimeout(welcomeTimer);
        if (call === stream) {
          call = undefined;
          stats.connected = false;
          inFlight.clear();
        }
        resolve(welcomed);
      });
      stream.write({
        hello: {
          agent_id: options.hello.agentId,
          agent_version: options.hello.version,
          capabilities: [...options.hello.capabilities],
          policy_version: options.policyVersion(),
          hostname: options.hello.hostname,
          instance_id: spool.instanceId,
        },
      });
    });
  }

  async function loop(): Promise<void> {
    let attempt = 0;
    while (!stopped) {
      const welcomed = await session();
      if (stopped) break;
      attempt = welcomed ? 0 : attempt + 1;
      const delay = backoffDelay(attempt, backoff);
      logger.info({ attempt, delayMs: delay }, 'reconnecting to ingest');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        wakeSleep = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  return {
    start() {
      running ??= loop();
    },
    wake() {
      void pump();
    },
    stats: () => ({ ...stats }),
    async stop() {
      stopped = true;
      clearTimeout(pauseTimer);
      wakeSleep();
      call?.end();
      call?.cancel();
      await running;
      client.close();
    },
  };
}
