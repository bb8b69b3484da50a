/**
 * Whose sequence numbers a batch carries: an agent instance's (its spool's). Agents that do not
 * name their instance share one numbering per agent id. Tenant and agent ids hold no '/'.
 */
export function sequenceKey(tenantId: string, agentId: string, instanceId: string): string {
  return instanceId === '' ? `${tenantId}/${agentId}` : `${tenantId}/${agentId}/${instanceId}`;
}

/** What happened to one batch sequence. */
export type SequenceOutcome = 'accepted' | 'failed';

interface AgentSequences {
  /** Sequences whose events are durable, newest last (insertion order). */
  accepted: Set<number>;
  highest: number;
  /** Batches being written right now, by sequence. */
  pending: Map<number, Promise<SequenceOutcome>>;
  lastSeen: number;
}

export interface SequenceTrackerOptions {
  /** Accepted sequences remembered per agent. @default 4096 */
  window?: number;
  /** Agents remembered at most; the least recently seen are forgotten first. @default 100000 */
  maxAgents?: number;
}

/** The decision for a batch that is about to be written. */
export type SequenceClaim =
  { kind: 'duplicate' } | { kind: 'write'; settle: (outcome: SequenceOutcome) => void };

/**
 * Remembers which batch sequences of each agent are already durable, so that a batch resent
 * after a reconnect is acknowledged without being written twice — also when the resend
 * arrives on a new stream while the old one is still writing it.
 *
 * This is a cache: after an ingest restart it starts empty and a resent batch is written
 * again; consumers stay correct because they deduplicate on the agent's event ids.
 */
export class SequenceTracker {
  readonly #agents = new Map<string, AgentSequences>();
  readonly #window: number;
  readonly #maxAgents: number;

  constructor(options: SequenceTrackerOptions = {}) {
    this.#window = options.window ?? 4096;
    this.#maxAgents = options.maxAgents ?? 100_000;
  }

  /** Highest durable sequence known for an agent, 0 when none. */
  highest(agentKey: string): number {
    return this.#agents.get(agentKey)?.highest ?? 0;
  }

  /**
   * Decides whether a batch must be written. When another stream is writing the same
   * sequence, waits for it: its success makes this one a duplicate, its failure lets this
   * one write.
   */
  async claim(agentKey: string, sequence: number): Promise<SequenceClaim> {
    const agent = this.#agent(agentKey);
    for (;;) {
      if (agent.accepted.has(sequence)) return { kind: 'duplicate' };
      const inFlight = agent.pending.get(sequence);
      if (!inFlight) break;
      await inFlight;
    }
    let settle!: (outcome: SequenceOutcome) => void;
    const done = new Promise<SequenceOutcome>((resolve) => (settle = resolve));
    agent.pending.set(sequence, done);
    return {
      kind: 'write',
      settle: (outcome) => {
        agent.pending.delete(sequence);
        if (outcome === 'accepted') this.#remember(agent, sequence);
        settle(outcome);
      },
    };
  }

  #agent(agentKey: string): AgentSequences {
    let agent = this.#agents.get(agentKey);
    if (agent) {
      // Re-insert to keep the map in least-recently-seen order for eviction.
      this.#agents.delete(agentKey);
    } else {
      agent = { accepted: new Set(), highest: 0, pending: new Map(), lastSeen: 0 };
      if (this.#agents.size >= this.#maxAgents) this.#evictOne();
    }
    agent.lastSeen = Date.now();
    this.#agents.set(agentKey, agent);
    return agent;
  }

  #evictOne(): void {
    for (const [key, agent] of this.#agents) {
      if (agent.pending.size === 0) {
        this.#agents.delete(key);
        return;
      }
    }
  }

  #remember(agent: AgentSequences, sequence: number): void {
    agent.accepted.add(sequence);
    if (sequence > agent.highest) agent.highest = sequence;
    if (agent.accepted.size > this.#window) {
      const oldest = agent.accepted.values().next().value;
      if (oldest !== undefined) agent.accepted.delete(oldest);
    }
  }
}
