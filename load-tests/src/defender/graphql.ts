/** The GraphQL queries the defender benchmark makes, as the admin of the defender's tenant. */

import type { Graphql } from '../support/graphql.js';

// The API's largest page (MAMORI_API_MAX_PAGE_SIZE, at most 500).
const PAGE = 500;

const EXEC_PIDS = `query ($filter: EventFilter, $after: String) {
  events(first: ${PAGE}, after: $after, filter: $filter) {
    edges { node { pid } }
    pageInfo { hasNextPage endCursor }
  }
}`;

/** Pids of every process exec event of process name `comm` (all pages). */
export async function execPids(graphql: Graphql, comm: string): Promise<number[]> {
  const pids: number[] = [];
  let after: string | undefined;
  for (;;) {
    const data = await graphql<{
      events: {
        edges: { node: { pid: number } }[];
        pageInfo: { hasNextPage: boolean; endCursor: string | null };
      };
    }>(EXEC_PIDS, {
      filter: { kinds: ['PROCESS_EXEC'], processName: comm },
      ...(after ? { after } : {}),
    });
    for (const { node } of data.events.edges) pids.push(node.pid);
    if (!data.events.pageInfo.hasNextPage || !data.events.pageInfo.endCursor) return pids;
    after = data.events.pageInfo.endCursor;
  }
}

/** The built-in rule an alert probe's miner fires. */
export const MINER_RULE = 'mamori:Crypto miner started';

const MINER_ALERTS_AND_EXECS = `query ($rules: [String!], $filter: EventFilter) {
  alerts(first: 50, filter: { ruleIds: $rules }) { edges { node { eventId } } }
  events(first: 50, filter: $filter) { edges { node { id pid } } }
}`;

/**
 * The newest alerts of the miner rule (by their event's id) and the newest exec events of
 * `comm` (event id → pid), in one request: an alert names its event, the event its pid.
 */
export async function minerAlertsAndExecs(
  graphql: Graphql,
  comm: string,
): Promise<{ alertEventIds: string[]; execs: Map<string, number> }> {
  const data = await graphql<{
    alerts: { edges: { node: { eventId: string } }[] };
    events: { edges: { node: { id: string; pid: number } }[] };
  }>(MINER_ALERTS_AND_EXECS, {
    rules: [MINER_RULE],
    filter: { kinds: ['PROCESS_EXEC'], processName: comm },
  });
  return {
    alertEventIds: data.alerts.edges.map((e) => e.node.eventId),
    execs: new Map(data.events.edges.map((e) => [e.node.id, e.node.pid])),
  };
}

/** Creates or replaces a policy of the tenant (the token must be an admin's). */
export async function upsertPolicy(
  graphql: Graphql,
  input: Record<string, unknown>,
): Promise<void> {
  await graphql('mutation ($input: PolicyInput!) { upsertPolicy(input: $input) { id } }', {
    input,
  });
}
