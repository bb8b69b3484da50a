import { createHash } from 'node:crypto';
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
  /**
   * Who the audit trail names for this token's changes: its `name` when the entry has one,
   * else `token:` and the first 12 hex digits of the token's SHA-256 — stable while the token
   * is, and never the token itself.
   */
  actor: string;
}

/** Maps bearer tokens to callers. */
export type TokenRegistry = CredentialRegistry<Caller>;

const isRole = (value: unknown): value is Role => ROLES.includes(value as Role);

/**
 * A person's or a script's name: 1 to 128 printable characters, not starting with `token:`
 * (which names the tokens without a name).
 */
const isActorName = (value: unknown): value is string =>
  typeof value === 'string' &&
  /^[^\p{C}]{1,128}$/u.test(value) &&
  value.trim() === value &&
  !value.startsWith('token:');

/** `token:` and 12 hex digits of the token's SHA-256 (48 bits: no two tokens of a file meet). */
function tokenActor(entry: Readonly<Record<string, unknown>>): string {
  const { token, tokenSha256 } = entry;
  const hash =
    typeof tokenSha256 === 'string'
      ? tokenSha256.toLowerCase()
      : createHash('sha256')
          .update(typeof token === 'string' ? token : '', 'utf8')
          .digest('hex');
  return `token:${hash.slice(0, 12)}`;
}

/** API tokens: `{ "token" | "tokenSha256", "tenant", "role", "name"? }`. */
const API_TOKENS: CredentialSpec<Caller> = {
  what: 'API tokens',
  listKey: 'tokens',
  identity(entry, at, problems) {
    const { tenant, role, name } = entry;
    if (!isCredentialName(tenant))
      problems.push(`${at}.tenant: expected a name of letters, digits, . _ -`);
    if (!isRole(role)) problems.push(`${at}.role: expected ${ROLES.join(', ')}`);
    const named = name === undefined || isActorName(name);
    if (!named) {
      problems.push(
        `${at}.name: expected 1 to 128 printable characters, without surrounding spaces, not starting with "token:"`,
      );
    }
    return isCredentialName(tenant) && isRole(role) && named
      ? { tenantId: tenant, role, actor: name ?? tokenActor(entry) }
      : undefined;
  },
};

/**
 * Builds a registry from `[{ "token" | "tokenSha256", "tenant", "role", "name"? }]` (or
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
