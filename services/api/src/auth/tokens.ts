import {
  createCredentialRegistry,
  isCredentialName,
  loadCredentialFile,
  type CredentialRegistry,
  type CredentialSpec,
} from '@mamori/common';

export { bearerToken } from '@mamori/common';

export const ROLES = ['admin', 'analyst', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

/** Who presented a token: the tenant every query is scoped to, and what they may do. */
export interface Caller {
  tenantId: string;
  role: Role;
}

/** Maps bearer tokens to callers. */
export type TokenRegistry = CredentialRegistry<Caller>;

const isRole = (value: unknown): value is Role => ROLES.includes(value as Role);

/** API tokens: `{ "token" | "tokenSha256", "tenant", "role" }`. */
const API_TOKENS: CredentialSpec<Caller> = {
  what: 'API tokens',
  listKey: 'tokens',
  identity(entry, at, problems) {
    const { tenant, role } = entry;
    if (!isCredentialName(tenant))
      problems.push(`${at}.tenant: expected a name of letters, digits, . _ -`);
    if (!isRole(role)) problems.push(`${at}.role: expected ${ROLES.join(', ')}`);
    return isCredentialName(tenant) && isRole(role) ? { tenantId: tenant, role } : undefined;
  },
};

/**
 * Builds a registry from `[{ "token" | "tokenSha256", "tenant", "role" }]` (or
 * `{ "tokens": [...] }`), reporting every bad entry at once.
 * @throws MamoriError Config listing each bad entry by index and field.
 */
export function createTokenRegistry(entries: unknown, source: string): TokenRegistry {
  return createCredentialRegistry(entries, source, API_TOKENS);
}

/**
 * Loads API tokens from a JSON file.
 * @throws MamoriError Config when the file is missing, not JSON, or has bad entries.
 */
export function loadTokenFile(path: string): TokenRegistry {
  return loadCredentialFile(path, API_TOKENS);
}
