/**
 * A minimal defender for tests of ingest and of what lies behind it. Not an agent: it does
 * not reconnect, spool or enforce; it sends what a test tells it to and records replies.
 */
import * as grpc from '@grpc/grpc-js';
import {
  loadMamoriGrpc,
  type AgentMessage,
  type BatchAck__Output,
  type Event,
  type ServerMessage__Output,
} from '@mamori/proto';

/** A minimal defender for tests: one stream, hello, batches, and the server's replies. */
export interface TestAgent {
  readonly messages: ServerMessage__Output[];
  send(message: AgentMessage): void;
  hello(
    agentId?: string,
    policyVersion?: string,
    instanceId?: string,
  ): Promise<ServerMessage__Output>;
  sendBatch(sequence: number, events: Event[]): void;
  ack(sequence: number, timeoutMs?: number): Promise<BatchAck__Output>;
  next(
    predicate: (m: ServerMessage__Output) => boolean,
    timeoutMs?: number,
  ): Promise<ServerMessage__Output>;
  /** Resolves with the stream's final status. */
  readonly status: Promise<grpc.StatusObject>;
  end(): void;
  cancel(): void;
  close(): void;
}

export function connectAgent(
  address: string,
  token: string | undefined,
  options: grpc.ChannelOptions = {},
  credentials: grpc.ChannelCredentials = grpc.credentials.createInsecure(),
): TestAgent {
  const Client = loadMamoriGrpc().mamori.v1.DefenderService;
  const client = new Client(address, credentials, options);
  const metadata = new grpc.Metadata();
  if (token !== undefined) metadata.set('authorization', `Bearer ${token}`);
  const call = client.Connect(metadata);
  const messages: ServerMessage__Output[] = [];
  const waiters = new Set<() => void>();
  call.on('data', (message: ServerMessage__Output) => {
    messages.push(message);
    for (const wake of waiters) wake();
  });
  call.on('error', () => undefined);
  const status = new Promise<grpc.StatusObject>((resolve) => call.on('status', resolve));

  const next: TestAgent['next'] = (predicate, timeoutMs = 10_000) =>
    new Promise((resolve, reject) => {
      const check = (): boolean => {
        const found = messages.find(predicate);
        if (!found) return false;
        waiters.delete(wake);
        clearTimeout(timer);
        resolve(found);
        return true;
      };
      const wake = (): void => void check();
      const timer = setTimeout(() => {
        waiters.delete(wake);
        reject(
          new Error(
            `no matching server message within ${timeoutMs} ms; got ${JSON.stringify(messages).slice(0, 500)}`,
          ),
        );
      }, timeoutMs);
      if (!check()) waiters.add(wake);
    });

  return {
    messages,
    status,
    send: (message) => call.write(message),
    hello(agentId = '', policyVersion = '', instanceId = '') {
      call.write({
        hello: {
          agent_id: agentId,
          agent_version: 'test',
          capabilities: ['process'],
          policy_version: policyVersion,
          instance_id: instanceId,
        },
      });
      return next((m) => m.message === 'welcome');
    },
    sendBatch: (sequence, events) => call.write({ batch: { sequence, events } }),
    async ack(sequence, timeoutMs) {
      const message = await next(
        (m) => m.message === 'ack' && m.ack?.sequence === sequence,
        timeoutMs,
      );
      return message.ack!;
    },
    next,
    end: () => call.end(),
    cancel: () => call.cancel(),
    close: () => {
      call.cancel();
      client.close();
    },
  };
}

let counter = 0;

/** A valid process-exec event with a fresh id. */
export function execEvent(overrides: Partial<Event> = {}): Event {
  counter++;
  return {
    id: `evt-${process.pid}-${counter}`,
    observed_unix_micros: Date.now() * 1000,
    host: { hostname: 'node-1' },
    process_exec: {
      process: {
        pid: 1000 + counter,
        ppid: 1,
        name: 'sh',
        exe: '/bin/sh',
        args: ['sh', '-c', 'id'],
      },
    },
    ...overrides,
  };
}
