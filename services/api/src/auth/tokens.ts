import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ErrorCode, MamoriError } from '@mamori/common';

export const ROLES = ['admin', 'analyst', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

/** Who presented a token: the tenant every query is scoped to, and what they may do. */
export interface Caller {
  tenantId: string;
  role: Role;
}

/** Maps bearer tokens to callers. */
export interface TokenRegistry {
  /** The caller of a presented token, or undefined when it is unknown. */
  identify(token: string): Caller | undefined;
  readonly size: number;
}

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/**
 * Builds a registry from `[{ "token" | "tokenSha256", "tenant", "role" }]` (or `{ "tokens": [...] }`),
 * checking every entry and reporting all problems at once. Same approach as ingest's agent
 * credentials: only SHA-256 hashes are kept.
 * @throws MamoriError Config listing each bad entry by index and field.
 */
export function createTokenRegistry(entries: unknown, source: string): TokenRegistry {
  const list = Array.isArray(entries)
    ? (entries as unknown[])
    : entries !== null &&
        typeof entries === 'object' &&
        Array.isArray((entries as { tokens?: unknown }).tokens)
      ? (entries as { tokens: unknown[] }).tokens
      : undefined;
  if (!list) {
    throw new MamoriError(
      ErrorCode.Config,
      `${source}: expected a JSON array of API tokens or { "tokens": [...] }`,
    );
  }
  const problems: string[] = [];
  const byHash = new Map<string, Caller>();
  list.forEach((raw, index) => {
    const at = `${source}[${index}]`;
    if (raw === null || typeof raw !== 'object') {
      problems.push(`${at}: expected an object`);
      return;
    }
    const { token, tokenSha256, tenant, role } = raw as Record<string, unknown>;
    if (typeof tenant !== 'string' || !NAME_PATTERN.test(tenant))
      problems.push(`${at}.tenant: expected a name of letters, digits, . _ -`);
    if (!ROLES.includes(role as Role)) problems.push(`${at}.role: expected ${ROLES.join(', ')}`);
    let hash: string | undefined;
    if (typeof tokenSha256 === 'string' && /^[0-9a-f]{64}$/i.test(tokenSha256))
      hash = tokenSha256.toLowerCase();
    else if (typeof token === 'string' && token.length >= 16) hash = sha256Hex(token);
    else
      problems.push(
        `${at}: needs "tokenSha256" (64 hex digits) or "token" (at least 16 characters)`,
      );
    if (hash && byHash.has(hash)) problems.push(`${at}: the same token is configured twice`);
    if (hash && typeof tenant === 'string' && ROLES.includes(role as Role))
      byHash.set(hash, Object.freeze({ tenantId: tenant, role: role as Role }));
  });
  if (problems.length > 0) {
    throw new MamoriError(ErrorCode.Config, `invalid API tokens:\n  - ${problems.join('\n  - ')}`);
  }
  return {
    // Lookup by hash: no secret bytes are compared, so timing reveals nothing useful.
    identify: (presented) => byHash.get(sha256Hex(presented)),
    size: byHash.size,
  };
}

/**
 * Loads API tokens from a JSON file.
 * @throws MamoriError Config when the file is missing, not JSON, or has bad entries.
 */
export function loadTokenFile(path: string): TokenRegistry {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new MamoriError(ErrorCode.Config, `cannot read API tokens file ${path}`, {
      cause: err,
      context: { path },
    });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new MamoriError(ErrorCode.Config, `${path}: not valid JSON`, {
      cause: err,
      context: { path },
    });
  }
  return createTokenRegistry(parsed, path);
}

/** The token of `authorization: Bearer <token>`, or undefined. */
export function bearerToken(authorization: unknown): string | undefined {
  if (typeof authorization !== 'string') return undefined;
  const match = /^Bearer ([\x21-\x7e]{1,4096})$/i.exec(authorization.trim());
  return match?.[1];
}
