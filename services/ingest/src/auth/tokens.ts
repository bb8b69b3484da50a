import {
  createCredentialRegistry,
  isCredentialName,
  loadCredentialFile,
  type CredentialRegistry,
  type CredentialSpec,
} from '@mamori/common';

export { bearerToken } from '@mamori/common';

/** Who a credential belongs to. */
export interface AgentIdentity {
  tenantId: string;
  agentId: string;
}

/** Maps bearer tokens to agent identities. */
export type TokenRegistry = CredentialRegistry<AgentIdentity>;

/**
 * The agent id of a fleet credential: one token for many agents of a tenant (a DaemonSet's
 * Secret), each naming itself in its hello. The tenant still comes from the credential alone.
 */
export const ANY_AGENT = '*';

/**
 * Agent credentials: `{ "token" | "tokenSha256", "tenant", "agentId" }`; `agentId` `*` makes a
 * fleet credential (see `ANY_AGENT`).
 */
const AGENT_CREDENTIALS: CredentialSpec<AgentIdentity> = {
  what: 'agent credentials',
  listKey: 'agents',
  identity(entry, at, problems) {
    const { tenant, agentId } = entry;
    if (!isCredentialName(tenant))
      problems.push(`${at}.tenant: expected a name of letters, digits, . _ -`);
    const fleet = agentId === ANY_AGENT;
    if (!fleet && !isCredentialName(agentId))
      problems.push(`${at}.agentId: expected a name of letters, digits, . _ - (or * for a fleet)`);
    return isCredentialName(tenant) && (fleet || isCredentialName(agentId))
      ? { tenantId: tenant, agentId }
      : undefined;
  },
};

/**
 * Builds a registry from entries, checking every one and reporting all problems at once.
 * @throws MamoriError Config listing each bad entry by index and field.
 */
export function createTokenRegistry(entries: unknown, source: string): TokenRegistry {
  return createCredentialRegistry(entries, source, AGENT_CREDENTIALS);
}

/**
 * Loads agent credentials from a JSON file.
 * @throws MamoriError Config when the file is missing, not JSON, or has bad entries.
 */
export function loadTokenFile(path: string): TokenRegistry {
  return loadCredentialFile(path, AGENT_CREDENTIALS);
}
