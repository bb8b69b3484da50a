import * as grpc from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import type { Bus } from '@mamori/bus';
import { checkReadiness, type Logger, type Readiness } from '@mamori/common';
import {
  loadMamoriGrpc,
  MAX_SERVER_MESSAGE_BYTES,
  type Command,
  type PolicyUpdate,
} from '@mamori/proto';
import type { AgentIdentity } from './auth/tokens.js';
import type { IngestConfig } from './config.js';
import { createIngestMetrics, instrumentBatchWriter, type IngestMetrics } from './metrics.js';
import { createBatchWriter } from './pipeline/batch-writer.js';
import { SequenceTracker } from './pipeline/sequences.js';
import { createAgentMessageDeserializer } from './wire/agent-message.js';
import {
  FlowBudget,
  serveConnect,
  type AgentSession,
  type ConnectCall,
  type PolicySource,
  type SessionContext,
} from './grpc/session.js';
import { createAgentStatusReporter } from './pipeline/agent-status.js';
import { createPolicyFollower, type PolicyFollower } from './policies/policy-follower.js';

export const SERVICE_NAME = 'mamori.v1.DefenderService';
export const INGEST_VERSION = '0.1.0';

export interface IngestDeps {
  config: Readonly<IngestConfig>;
  bus: Bus;
  logger: Logger;
  /**
   * The policy set each agent should enforce; pushed on hello when the agent's differs. When
   * given, ingest does not follow the policies topic (tests, embedding).
   * @default the policies topic (`config.topics.policies`), followed by `createPolicyFollower`
   */
  policies?: PolicySource;
  /**
   * Whether ingest's registry collects process metrics; off when another service of the same
   * process already does (`mamori start`). @default true
   */
  processMetrics?: boolean;
}

export interface IngestApp {
  /** Creates the topics, binds the gRPC server and starts serving. Resolves with the bound port. */
  start(): Promise<{ port: number }>;
  /** Stops accepting streams, waits for in-flight batches (up to `graceMs`), then closes. */
  stop(graceMs?: number): Promise<void>;
  /** Agents connected now. */
  sessions(): AgentSession[];
  /** Pushes a policy set to every connected session of an agent; returns how many got it. */
  pushPolicy(identity: AgentIdentity, update: PolicyUpdate): number;
  /**
   * Pushes a tenant's policy set to every connected session of the tenant that holds another
   * version; returns how many got it. Ingest calls it itself when the policies topic changes.
   */
  pushTenantPolicies(tenantId: string, update: PolicyUpdate): number;
  /** Sends a command (kill a process, stop a container) to an agent; returns how many got it. */
  sendCommand(identity: AgentIdentity, command: Command): number;
  /** Prometheus metrics (prefix `mamori_ingest_`). */
  readonly metrics: IngestMetrics;
  /** Ready while the gRPC server listens, ingest is not stopping and the bus answers. */
  readiness(): Promise<Readiness>;
}

/** 1.5 s: the bus must answer within the ops server's 2 s readiness timeout. */
const BUS_PING_TIMEOUT_MS = 1500;

/** Builds ingest without binding or connecting anything. */
export function buildApp(deps: IngestDeps): IngestApp {
  const { config, bus, logger } = deps;
  const sequences = new SequenceTracker();
  const sessions = new Map<string, AgentSession>();
  const budget = new FlowBudget(config.limits.maxInFlightEvents);
  const metrics = createIngestMetrics({
    defaultMetrics: deps.processMetrics ?? true,
    connectedStreams: () => sessions.size,
    inFlightEvents: () => budget.inFlight,
  });
  const writeBatch = createBatchWriter({
    bus,
    sequences,
    limits: config.limits,
    topics: config.topics,
    logger,
    retryAfterMs: config.retryAfterMs,
  });
  const agentStatus = createAgentStatusReporter({
    bus,
    topic: config.topics.agents,
    heartbeatMs: config.agentHeartbeatMs,
    logger,
  });
  const follower: PolicyFollower | undefined = deps.policies
    ? undefined
    : createPolicyFollower({
        bus,
        topic: config.topics.policies,
        logger: logger.child({ component: 'policies' }),
        onChange: (tenantId, update) => {
          pushTenantPolicies(tenantId, update);
        },
        onSynced: () => {
          for (const session of sessions.values()) {
            const update = follower?.current(session.identity.tenantId);
            if (update) session.pushPolicy(update);
          }
        },
      });
  const policies: PolicySource | undefined =
    deps.policies ?? (follower ? (identity) => follower.current(identity.tenantId) : undefined);
  const ctx: SessionContext = {
    agentStatus,
    tokens: config.tokens,
    writeBatch: instrumentBatchWriter(writeBatch, metrics),
    sequences,
    budget,
    logger,
    limits: config.limits,
    serverVersion: INGEST_VERSION,
    ...(policies ? { policies } : {}),
    sessions,
    agents: new Map(),
    onConflict: () => metrics.agentIdConflicts.inc(),
  };
  const health = new HealthImplementation({ '': 'NOT_SERVING', [SERVICE_NAME]: 'NOT_SERVING' });
  let server: grpc.Server | undefined;
  /** Set once the server is bound and serving, cleared when stop begins. */
  let serving = false;

  return {
    async start() {
      await bus.ensureTopics([
        { topic: config.topics.events, partitions: config.eventPartitions },
        { topic: config.topics.rejected, partitions: 1 },
        { topic: config.topics.agents, partitions: 1 },
        // Keyed state: the last record of each policy is the policy. Retention -1 on both
        // buses, so that neither deletes a policy by age (Kafka's compaction keeps the last
        // record per key; the embedded log keeps everything).
        {
          topic: config.topics.policies,
          partitions: 1,
          cleanupPolicy: 'compact',
          retentionMs: -1,
          retentionBytes: -1,
        },
      ]);
      // Before the server listens: an agent that connects gets the complete set, never a
      // partial one (until synced, agents are sent nothing and keep what they have).
      await follower?.start(config.policySyncTimeoutMs);
      server = new grpc.Server({
        'grpc.max_receive_message_length': config.limits.maxMessageBytes,
        // A tenant's policy set goes out whole; sessions hold updates to MAX_POLICY_UPDATE_BYTES.
        'grpc.max_send_message_length': MAX_SERVER_MESSAGE_BYTES,
        // Agents keep one stream open for days; ping to find dead peers behind NAT (ms).
        'grpc.keepalive_time_ms': 30_000,
        'grpc.keepalive_timeout_ms': 10_000,
        'grpc.http2.min_ping_interval_without_data_ms': 10_000,
        'grpc.keepalive_permit_without_calls': 1,
      });
      const definition = loadMamoriGrpc().mamori.v1.DefenderService.service;
      server.addService(
        // Ingest's own request deserializer: batches stay as bytes (see wire/agent-message.ts).
        {
          ...definition,
          Connect: { ...definition.Connect, requestDeserialize: createAgentMessageDeserializer() },
        },
        { Connect: (call: ConnectCall) => serveConnect(call, ctx) },
      );
      health.addToServer(server);
      const credentials = config.tls
        ? grpc.ServerCredentials.createSsl(
            null,
            [{ cert_chain: config.tls.cert, private_key: config.tls.key }],
            false,
          )
        : grpc.ServerCredentials.createInsecure();
      if (!config.tls && !['127.0.0.1', 'localhost', '::1'].includes(config.host)) {
        logger.warn(
          { host: config.host },
          'ingest listens beyond loopback without TLS: agent tokens travel in clear text',
        );
      }
      const bound = server;
      let port: number;
      try {
        port = await new Promise<number>((resolve, reject) => {
          bound.bindAsync(`${config.host}:${config.port}`, credentials, (err, actual) =>
            err ? reject(err) : resolve(actual),
          );
        });
      } catch (err) {
        // The follower's consumer would otherwise stay in its group until the bus closes.
        await follower?.stop();
        throw err;
      }
      health.setStatus('', 'SERVING');
      health.setStatus(SERVICE_NAME, 'SERVING');
      serving = true;
      logger.info(
        { host: config.host, port, bus: bus.kind, tls: Boolean(config.tls) },
        'ingest listening',
      );
      return { port };
    },

    async stop(graceMs = 10_000) {
      if (!server) return;
      const current = server;
      server = undefined;
      serving = false;
      health.setStatus('', 'NOT_SERVING');
      health.setStatus(SERVICE_NAME, 'NOT_SERVING');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          current.forceShutdown();
          resolve();
        }, graceMs);
        current.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
        // Agents keep streams open; end them so that tryShutdown can finish once in-flight
        // batches are acknowledged.
        for (const session of sessions.values()) session.close();
      });
      // The agents' last statuses (disconnected) reach the bus before it closes.
      await agentStatus.stop();
      await follower?.stop();
    },

    sessions: () => [...sessions.values()],
    metrics,

    async readiness() {
      if (!serving) return { ready: false, reason: 'not serving (starting or stopping)' };
      // Asking for the events topic's offsets is a round trip to the bus (the brokers, or the
      // embedded log's files) without writing anything.
      const answer = await checkReadiness(async () => {
        await bus.offsets(config.topics.events);
        return { ready: true };
      }, BUS_PING_TIMEOUT_MS);
      return answer.ready ? answer : { ready: false, reason: `bus unusable: ${answer.reason}` };
    },

    pushPolicy: (identity, update) =>
      sendTo(identity, (session) => session.pushPolicy(update, true)),
    pushTenantPolicies,
    sendCommand: (identity, command) => sendTo(identity, (session) => session.send({ command })),
  };

  function pushTenantPolicies(tenantId: string, update: PolicyUpdate): number {
    let sent = 0;
    for (const session of sessions.values()) {
      if (session.identity.tenantId === tenantId && session.pushPolicy(update)) sent++;
    }
    return sent;
  }

  /** Sends to every connected session of an agent; returns how many `send` says got it. */
  function sendTo(identity: AgentIdentity, send: (session: AgentSession) => boolean): number {
    let sent = 0;
    for (const session of sessions.values()) {
      if (
        session.identity.tenantId === identity.tenantId &&
        session.identity.agentId === identity.agentId &&
        send(session)
      ) {
        sent++;
      }
    }
    return sent;
  }
}
