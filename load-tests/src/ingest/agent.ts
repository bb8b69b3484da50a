import * as grpc from '@grpc/grpc-js';
import type protobuf from 'protobufjs';
import { protoType } from '@mamori/proto';
import { encodeBatchMessage } from './events.js';

export interface SimulatedAgentOptions {
  address: string;
  token: string;
  agentId: string;
  /** Events per second this agent generates; 0 sends as fast as acknowledgements allow. */
  rate: number;
  batchSize: number;
  /** Batches sent and not yet acknowledged, at most. */
  window: number;
  templates: readonly Buffer[];
  durationMs: number;
  /** How long to wait for the last acknowledgements after the run, in ms. */
  drainMs: number;
  /** Told the ids of each batch as it is written to the stream (performance.now() time). */
  onSend?: (ids: readonly string[], at: number) => void;
}

export interface AgentResult {
  sent: number;
  acked: number;
  errors: number;
  rejected: number;
  /** One entry per acknowledged batch, in ms. */
  ackLatencies: number[];
  firstSendAt: number;
  lastAckAt: number;
  /** Events the agent wanted to send but could not, because its window was full. */
  backlog: number;
}

let types: { agent: protobuf.Type; server: protobuf.Type } | undefined;
function loadTypes(): { agent: protobuf.Type; server: protobuf.Type } {
  if (!types) {
    types = {
      agent: protoType('mamori.v1.AgentMessage'),
      server: protoType('mamori.v1.ServerMessage'),
    };
  }
  return types;
}

interface ServerReply {
  welcome?: unknown;
  ack?: {
    sequence?: number | { toNumber(): number };
    status?: number;
    accepted?: number;
    rejections?: unknown[];
  };
}

const ACCEPTED = 1;
const DUPLICATE = 4;

/** One simulated defender: one stream, a hello, then paced batches of synthetic events. */
export function runSimulatedAgent(options: SimulatedAgentOptions): Promise<AgentResult> {
  const { agent: agentType, server: serverType } = loadTypes();
  const client = new grpc.Client(options.address, grpc.credentials.createInsecure(), {
    'grpc.max_send_message_length': 64 * 1024 * 1024,
  });
  const metadata = new grpc.Metadata();
  metadata.set('authorization', `Bearer ${options.token}`);
  const call = client.makeBidiStreamRequest<Buffer, ServerReply>(
    '/mamori.v1.DefenderService/Connect',
    (message) => message,
    (bytes) => serverType.toObject(serverType.decode(bytes), { longs: Number }),
    metadata,
  );

  const result: AgentResult = {
    sent: 0,
    acked: 0,
    errors: 0,
    rejected: 0,
    ackLatencies: [],
    firstSendAt: 0,
    lastAckAt: 0,
    backlog: 0,
  };
  const inFlight = new Map<number, { at: number; events: number }>();
  let sequence = 0;
  let generated = 0;
  let startedAt = 0;
  let stopping = false;
  let idCounter = 0;
  let templateIndex = options.agentId.length * 17;

  return new Promise<AgentResult>((resolve) => {
    let finished = false;
    let ticker: NodeJS.Timeout | undefined;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      clearInterval(ticker);
      result.backlog = Math.max(0, generated - result.sent);
      call.end();
      client.close();
      resolve(result);
    };

    const sendBatch = (count: number): void => {
      sequence++;
      const now = performance.now();
      const templates: Buffer[] = [];
      const ids: string[] = [];
      for (let i = 0; i < count; i++) {
        templates.push(options.templates[templateIndex++ % options.templates.length]!);
        ids.push(`${options.agentId}-${++idCounter}`);
      }
      const message = encodeBatchMessage(
        sequence,
        templates,
        ids,
        Math.round((performance.timeOrigin + now) * 1000),
      );
      inFlight.set(sequence, { at: now, events: count });
      if (result.firstSendAt === 0) result.firstSendAt = now;
      result.sent += count;
      call.write(message);
      options.onSend?.(ids, now);
    };

    const pump = (): void => {
      if (stopping) return;
      const now = performance.now();
      if (now - startedAt >= options.durationMs) {
        stopping = true;
        if (inFlight.size === 0) finish();
        else setTimeout(finish, options.drainMs).unref();
        return;
      }
      if (options.rate === 0) {
        while (inFlight.size < options.window) sendBatch(options.batchSize);
        generated = result.sent;
        return;
      }
      generated = Math.floor(((now - startedAt) / 1000) * options.rate);
      while (inFlight.size < options.window) {
        const due = generated - result.sent;
        if (due <= 0) break;
        // What is due is sent every tick (10 ms), like a real agent's flush interval; a batch
        // is never larger than batchSize.
        sendBatch(Math.min(due, options.batchSize));
      }
    };

    call.on('data', (reply: ServerReply) => {
      if (reply.welcome) {
        startedAt = performance.now();
        ticker = setInterval(pump, 10);
        pump();
        return;
      }
      const ack = reply.ack;
      if (!ack) return;
      const seq = typeof ack.sequence === 'object' ? ack.sequence.toNumber() : (ack.sequence ?? 0);
      const batch = inFlight.get(seq);
      if (!batch) return;
      inFlight.delete(seq);
      const now = performance.now();
      result.ackLatencies.push(now - batch.at);
      result.lastAckAt = now;
      if (ack.status === ACCEPTED || ack.status === DUPLICATE) {
        result.acked += ack.accepted ?? 0;
        result.rejected += ack.rejections?.length ?? 0;
      } else {
        result.errors++;
      }
      if (stopping && inFlight.size === 0) finish();
      else pump();
    });
    call.on('error', (err: grpc.ServiceError) => {
      if (err.code !== grpc.status.CANCELLED) result.errors++;
      finish();
    });
    call.on('end', finish);

    call.write(
      Buffer.from(
        agentType
          .encode(
            agentType.fromObject({
              hello: {
                agent_id: options.agentId,
                agent_version: 'bench',
                capabilities: ['process', 'file', 'network', 'http'],
              },
            }),
          )
          .finish(),
      ),
    );
  });
}
