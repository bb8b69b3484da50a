import { randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { isCredentialName, type Logger } from '@mamori/common';
import {
  MAX_POLICY_UPDATE_BYTES,
  protoType,
  type PolicyUpdate,
  type ServerMessage,
} from '@mamori/proto';
import { ANY_AGENT, bearerToken, type AgentIdentity, type TokenRegistry } from '../auth/tokens.js';
import type { BatchWriter, StreamAgent } from '../pipeline/batch-writer.js';
import { sequenceKey, type SequenceTracker } from '../pipeline/sequences.js';
import type { IncomingMessage, WireBatch } from '../wire/agent-message.js';
import type { AgentStatusReporter } from '../pipeline/agent-status.js';

export type ConnectCall = grpc.ServerDuplexStream<IncomingMessage, ServerMessage>;

/**
 * Shared by every stream: a bound on events held in memory across all of them. When it runs
 * out, every stream is told at once (so none reads another batch); when there is room again,
 * they are told to look again.
 */
export class FlowBudget {
  #inFlight = 0;
  readonly #streams = new Set<() => void>();
  readonly maxEvents: number;
  constructor(maxEvents: number) {
    this.maxEvents = maxEvents;
  }
  get inFlight(): number {
    return this.#inFlight;
  }
  get exhausted(): boolean {
    return this.#inFlight >= this.maxEvents;
  }
  /** Registers a stream's flow check; returns the function that unregisters it. */
  watch(check: () => void): () => void {
    this.#streams.add(check);
    return () => this.#streams.delete(check);
  }
  take(events: number): void {
    const wasExhausted = this.exhausted;
    this.#inFlight += events;
    if (!wasExhausted && this.exhausted) this.#notify();
  }
  give(events: number): void {
    const wasExhausted = this.exhausted;
    this.#inFlight -= events;
    if (wasExhausted && !this.exhausted) this.#notify();
  }
  #notify(): void {
    for (const check of this.#streams) check();
  }
}

/** A connected agent, for pushing policies and commands. */
export interface AgentSession {
  readonly id: string;
  readonly identity: AgentIdentity;
  /**
   * The policy set version the agent holds, as far as ingest knows: its hello's, then that of
   * each update sent since. '' for none.
   */
  readonly policyVersion: string;
  /** The hello's instance id ('' when the agent did not say), once greeted. */
  readonly instanceId: string;
  /** When the hello was accepted (ms since the epoch); 0 before. */
  readonly connectedAt: number;
  send(message: ServerMessage): boolean;
  /**
   * Sends a policy update unless the agent already holds its version (or `force`); true when
   * sent.
   */
  pushPolicy(update: PolicyUpdate, force?: boolean): boolean;
  /** Stops reading, and ends the stream once every batch read so far is acknowledged. */
  close(): void;
  /**
   * Ends the stream at once with ABORTED: a newer stream of the same agent instance took its
   * place. Batches being written still finish; the agent resends what it saw no ack for, and
   * those are acknowledged as duplicates.
   */
  replace(): void;
}

/**
 * Provides the policy set an agent should enforce; undefined when it is not known (yet), in
 * which case the agent is sent nothing and keeps what it has.
 */
export type PolicySource = (identity: AgentIdentity) => PolicyUpdate | undefined;

export interface SessionContext {
  tokens: TokenRegistry;
  writeBatch: BatchWriter;
  sequences: SequenceTracker;
  budget: FlowBudget;
  logger: Logger;
  limits: {
    maxBatchEvents: number;
    maxMessageBytes: number;
    maxInFlightBatches: number;
    helloTimeoutMs: number;
  };
  serverVersion: string;
  policies?: PolicySource;
  sessions: Map<string, AgentSession>;
  /**
   * The greeted stream of each agent, by "<tenant>/<agent>": one instance of an agent id at a
   * time (see {@link serveConnect}).
   */
  agents: Map<string, AgentSession>;
  /** Counts hellos refused because another instance of the agent id is connected. */
  onConflict?(): void;
  /** Records agents' connections for the API's agent list. */
  agentStatus?: AgentStatusReporter;
}

const POLICY_UPDATE = protoType('mamori.v1.PolicyUpdate');
/** Encoded sizes of the updates seen: one object per tenant's version goes to many sessions. */
const updateSizes = new WeakMap<PolicyUpdate, number>();

/** Whether a policy update fits in one message to an agent; says so once per update when not. */
function policyFits(update: PolicyUpdate, logger: Logger): boolean {
  let size = updateSizes.get(update);
  if (size === undefined) {
    size = POLICY_UPDATE.encode(POLICY_UPDATE.fromObject(update)).finish().length;
    updateSizes.set(update, size);
    if (size > MAX_POLICY_UPDATE_BYTES) {
      logger.error(
        {
          version: update.version,
          policies: update.policies?.length ?? 0,
          bytes: size,
          limit: MAX_POLICY_UPDATE_BYTES,
        },
        'policy set too large to push to agents; they keep the set they have',
      );
    }
  }
  return size <= MAX_POLICY_UPDATE_BYTES;
}

function fail(call: ConnectCall, code: grpc.status, details: string): void {
  call.emit('error', Object.assign(new Error(details), { code, details }));
}

/**
 * Serves one Connect stream: authenticates it from the metadata, waits for the hello,
 * answers with a welcome (and the agent's policy set), then writes batches and acknowledges
 * each once it is durable. Reading stops while too many batches of this stream, or too many
 * events overall, are unacknowledged, so a slow bus pushes back on agents through HTTP/2 flow
 * control instead of filling memory.
 */
export function serveConnect(call: ConnectCall, ctx: SessionContext): void {
  const token = bearerToken(call.metadata.get('authorization')[0]);
  const credential = token === undefined ? undefined : ctx.tokens.identify(token);
  if (!credential) {
    ctx.logger.warn(
      { peer: call.getPeer(), hasToken: token !== undefined },
      'agent refused: unknown credential',
    );
    fail(call, grpc.status.UNAUTHENTICATED, 'missing or unknown bearer token');
    return;
  }
  const sessionId = randomUUID();
  // A fleet credential's agent names itself in its hello; until then nothing is written.
  let identity: AgentIdentity = credential;
  const logOf = (of: AgentIdentity): Logger =>
    ctx.logger.child({ sessionId, tenantId: of.tenantId, agentId: of.agentId });
  let log = logOf(identity);
  let greeted = false;
  let ended = false;
  let inFlightBatches = 0;
  let waitingForDrain = false;
  let draining = false;
  let policyVersion = '';
  let instanceId = '';
  /** Whose batches this stream carries; set with the hello (no batch is taken before it). */
  let streamAgent: StreamAgent = {
    ...credential,
    sequenceKey: sequenceKey(credential.tenantId, credential.agentId, ''),
  };
  let connectedAt = 0;
  let agentKey = '';

  const helloTimer = setTimeout(() => {
    if (!greeted)
      fail(call, grpc.status.DEADLINE_EXCEEDED, `no hello within ${ctx.limits.helloTimeoutMs} ms`);
  }, ctx.limits.helloTimeoutMs);

  const session: AgentSession = {
    id: sessionId,
    get identity() {
      return identity;
    },
    get policyVersion() {
      return policyVersion;
    },
    get instanceId() {
      return instanceId;
    },
    get connectedAt() {
      return connectedAt;
    },
    pushPolicy: (update, force = false) => {
      if (!force && (update.version ?? '') === policyVersion) return false;
      // Too large for the stream: sending it would end the stream, and the next hello would
      // end it again. The agent keeps the set it has.
      if (!policyFits(update, ctx.logger)) return false;
      if (!session.send({ policy: update })) return false;
      policyVersion = update.version ?? '';
      return true;
    },
    send: (message) => {
      if (call.destroyed || call.writableEnded) return false;
      const ok = call.write(message);
      if (!ok && !waitingForDrain) {
        waitingForDrain = true;
        call.once('drain', () => {
          waitingForDrain = false;
          adjustFlow();
        });
        adjustFlow();
      }
      return true;
    },
    close: () => {
      draining = true;
      call.pause();
      close();
      finishIfDone();
    },
    replace: () => {
      log.info({ inFlightBatches }, 'agent stream replaced by a newer stream of the same instance');
      close();
      fail(call, grpc.status.ABORTED, 'replaced by a newer stream of the same agent instance');
    },
  };

  function adjustFlow(): void {
    const shouldPause =
      draining ||
      inFlightBatches >= ctx.limits.maxInFlightBatches ||
      waitingForDrain ||
      ctx.budget.exhausted;
    if (shouldPause && !call.isPaused()) call.pause();
    else if (!shouldPause && call.isPaused()) call.resume();
  }
  const unwatch = ctx.budget.watch(adjustFlow);

  function finishIfDone(): void {
    if (ended && inFlightBatches === 0 && !call.writableEnded && !call.destroyed) call.end();
  }

  function onBatch(batch: WireBatch): void {
    const events = batch.events.length;
    inFlightBatches++;
    ctx.budget.take(events);
    adjustFlow();
    ctx
      .writeBatch(streamAgent, batch)
      .then((ack) => {
        session.send({ ack });
      })
      .catch((err: unknown) => {
        // writeBatch never throws by contract; if it does, the agent resends after a retry.
        log.error({ err, sequence: batch.sequence }, 'batch handling failed');
        session.send({
          ack: {
            sequence: batch.sequence,
            status: 'ACK_STATUS_RETRY',
            reason: 'internal error',
            retry_after_ms: 1000,
          },
        });
      })
      .finally(() => {
        inFlightBatches--;
        ctx.budget.give(events);
        adjustFlow();
        finishIfDone();
      });
  }

  call.on('data', (message: IncomingMessage) => {
    switch (message.message) {
      case 'hello': {
        const hello = message.hello;
        if (greeted) {
          fail(call, grpc.status.INVALID_ARGUMENT, 'hello: sent twice on one stream');
          return;
        }
        if (identity.agentId === ANY_AGENT) {
          if (!isCredentialName(hello.agent_id)) {
            log.warn('agent refused: a fleet credential and no valid agent id in the hello');
            fail(
              call,
              grpc.status.INVALID_ARGUMENT,
              'hello.agent_id: a fleet credential needs the agent to name itself (letters, digits, . _ -)',
            );
            return;
          }
          identity = { tenantId: identity.tenantId, agentId: hello.agent_id };
          log = logOf(identity);
        } else if (hello.agent_id !== '' && hello.agent_id !== identity.agentId) {
          log.warn(
            { claimed: hello.agent_id.slice(0, 128) },
            'agent refused: hello names another agent',
          );
          fail(
            call,
            grpc.status.PERMISSION_DENIED,
            'hello.agent_id: does not match the credential',
          );
          return;
        }
        if (hello.instance_id !== '' && !isCredentialName(hello.instance_id)) {
          fail(
            call,
            grpc.status.INVALID_ARGUMENT,
            'hello.instance_id: letters, digits, . _ - (at most 128), or empty',
          );
          return;
        }
        const key = `${identity.tenantId}/${identity.agentId}`;
        const instance = hello.instance_id;
        const current = ctx.agents.get(key);
        if (current !== undefined) {
          if (current.instanceId !== '' && instance !== '' && current.instanceId !== instance) {
            // Two agents with one id: their sequence numbers would collide, and the later
            // one's batches would be taken for duplicates and dropped. The one connected stays.
            ctx.onConflict?.();
            log.warn(
              {
                instanceId: instance,
                connectedInstanceId: current.instanceId,
                connectedSince: new Date(current.connectedAt).toISOString(),
                hostname: hello.hostname.slice(0, 128),
                peer: call.getPeer(),
              },
              'agent refused: another instance of this agent id is connected',
            );
            fail(
              call,
              grpc.status.ALREADY_EXISTS,
              `hello: agent "${identity.agentId}" is connected from another instance since ${new Date(current.connectedAt).toISOString()}; each agent needs an id of its own`,
            );
            return;
          }
          current.replace();
        }
        greeted = true;
        clearTimeout(helloTimer);
        instanceId = instance;
        streamAgent = {
          ...identity,
          sequenceKey: sequenceKey(identity.tenantId, identity.agentId, instanceId),
        };
        connectedAt = Date.now();
        agentKey = key;
        ctx.agents.set(key, session);
        ctx.sessions.set(sessionId, session);
        log.info(
          {
            agentVersion: hello.agent_version.slice(0, 64),
            capabilities: hello.capabilities.length,
            instanceId,
          },
          'agent connected',
        );
        session.send({
          welcome: {
            tenant_id: identity.tenantId,
            agent_id: identity.agentId,
            session_id: sessionId,
            last_sequence: ctx.sequences.highest(streamAgent.sequenceKey),
            max_batch_events: ctx.limits.maxBatchEvents,
            max_message_bytes: ctx.limits.maxMessageBytes,
            server_version: ctx.serverVersion,
          },
        });
        ctx.agentStatus?.connected(sessionId, identity, {
          hostname: hello.hostname,
          agentVersion: hello.agent_version,
          capabilities: hello.capabilities,
          policyVersion: hello.policy_version,
        });
        // Right after the welcome, so that the agent enforces the current set from the start.
        policyVersion = hello.policy_version;
        const policy = ctx.policies?.(identity);
        if (policy) session.pushPolicy(policy);
        return;
      }
      case 'batch':
        if (!greeted) {
          fail(call, grpc.status.FAILED_PRECONDITION, 'batch: the stream must start with a hello');
          return;
        }
        onBatch(message.batch);
        return;
      case 'command_result': {
        const result = message.command_result;
        log.info({ commandId: result.command_id.slice(0, 128), ok: result.ok }, 'command result');
        return;
      }
      case 'invalid':
        log.warn({ reason: message.reason }, 'agent sent a malformed message');
        fail(call, grpc.status.INVALID_ARGUMENT, message.reason);
    }
  });

  const close = (): void => {
    if (ended) return;
    ended = true;
    clearTimeout(helloTimer);
    unwatch();
    ctx.sessions.delete(sessionId);
    if (agentKey !== '' && ctx.agents.get(agentKey) === session) ctx.agents.delete(agentKey);
    if (greeted) ctx.agentStatus?.disconnected(sessionId);
  };
  call.on('end', () => {
    close();
    finishIfDone();
  });
  call.on('cancelled', () => {
    log.info({ inFlightBatches }, 'agent stream cancelled');
    close();
  });
  call.on('error', (err) => {
    log.debug({ err }, 'agent stream error');
    close();
  });
  call.on('close', close);
}
