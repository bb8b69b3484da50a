import type { Bus, ProduceRecord } from '@mamori/bus';
import type { Logger } from '@mamori/common';
import { protoType, type AgentStatus } from '@mamori/proto';
import type { AgentIdentity } from '../auth/tokens.js';

/** What the agent said of itself in its hello (already bounded by the wire limits). */
export interface AgentHello {
  hostname: string;
  agentVersion: string;
  capabilities: readonly string[];
  policyVersion: string;
}

export interface AgentStatusReporter {
  /** The agent's stream was greeted: it is connected. */
  connected(sessionId: string, identity: AgentIdentity, hello: AgentHello): void;
  /** The stream ended: the agent is recorded as disconnected. */
  disconnected(sessionId: string): void;
  /** Reports every connected agent once more and stops the heartbeat. */
  stop(): Promise<void>;
}

export interface AgentStatusOptions {
  bus: Pick<Bus, 'produce'>;
  topic: string;
  /** Between reports of an agent that stays connected, in ms. */
  heartbeatMs: number;
  logger: Logger;
  /** Microseconds since the epoch. @default Date.now() * 1000 */
  now?: () => number;
}

/** Values are bounded so that a hostile hello cannot make a status record large. */
const MAX_TEXT = 256;
const MAX_CAPABILITIES = 64;

/**
 * Records agents' connections on the agents topic: a status when an agent says hello, one
 * per agent every `heartbeatMs` while it stays connected (so that "last seen" stays fresh
 * and a crashed ingest's agents age out), and one when its stream ends. Statuses are
 * produced in one call per heartbeat for all agents. A failed produce is logged and not
 * retried: the next heartbeat says the same, newer.
 */
export function createAgentStatusReporter(options: AgentStatusOptions): AgentStatusReporter {
  const { bus, topic, logger } = options;
  const now = options.now ?? (() => Date.now() * 1000);
  const type = protoType('mamori.v1.AgentStatus');
  const connected = new Map<string, { identity: AgentIdentity; hello: AgentHello }>();
  let pending: Promise<void> = Promise.resolve();

  function record(
    sessionId: string,
    identity: AgentIdentity,
    hello: AgentHello,
    isConnected: boolean,
  ): ProduceRecord {
    const status: AgentStatus = {
      tenant_id: identity.tenantId,
      agent_id: identity.agentId,
      hostname: hello.hostname.slice(0, MAX_TEXT),
      agent_version: hello.agentVersion.slice(0, MAX_TEXT),
      capabilities: hello.capabilities.slice(0, MAX_CAPABILITIES).map((c) => c.slice(0, MAX_TEXT)),
      policy_version: hello.policyVersion.slice(0, MAX_TEXT),
      seen_unix_micros: now(),
      connected: isConnected,
      session_id: sessionId,
    };
    return {
      key: Buffer.from(`${identity.tenantId}/${identity.agentId}`),
      value: Buffer.from(type.encode(type.fromObject(status)).finish()),
    };
  }

  function produce(records: ProduceRecord[]): void {
    if (records.length === 0) return;
    // In order: a disconnect must never be overtaken by an earlier heartbeat.
    pending = pending
      .then(() => bus.produce(topic, records))
      .then(
        () => undefined,
        (err: unknown) => {
          logger.warn({ err, topic, records: records.length }, 'could not record agent status');
        },
      );
  }

  const timer = setInterval(() => {
    produce(
      [...connected].map(([sessionId, { identity, hello }]) =>
        record(sessionId, identity, hello, true),
      ),
    );
  }, options.heartbeatMs);
  timer.unref();

  return {
    connected(sessionId, identity, hello) {
      connected.set(sessionId, { identity, hello });
      produce([record(sessionId, identity, hello, true)]);
    },
    disconnected(sessionId) {
      const agent = connected.get(sessionId);
      if (!agent) return;
      connected.delete(sessionId);
      // An agent that reconnected before its old stream ended is still connected.
      const { tenantId, agentId } = agent.identity;
      for (const [otherId, other] of connected) {
        if (other.identity.tenantId === tenantId && other.identity.agentId === agentId) {
          produce([record(otherId, other.identity, other.hello, true)]);
          return;
        }
      }
      produce([record(sessionId, agent.identity, agent.hello, false)]);
    },
    async stop() {
      clearInterval(timer);
      await pending;
    },
  };
}
