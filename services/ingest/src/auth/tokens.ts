import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ErrorCode, MamoriError } from '@mamori/common';

/** Who a credential belongs to. */
export interface AgentIdentity {
  tenantId: string;
  agentId: string;
}

/**
 * One configured credential: the token itself or, better, its SHA-256 in hex so that the
 * file holds nothing that can be replayed.
 */
export interface TokenEntry {
  token?: string;
  tokenSha256?: string;
  tenant: string;
  agentId: string;
}

/** Maps bearer tokens to agent identities. */
export interface TokenRegistry {
  /** The identity of a presented token, or undefined when it is unknown. */
  identify(token: string): AgentIdentity | undefined;
  readonly size: number;
}

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/**
 * Builds a registry from entries, checking every one and reporting all problems at once.
 * `source` names where they came from, for the error message.
 * @throws MamoriError Config listing each bad entry by index and field.
 */
export function createTokenRegistry(entries: unknown, source: string): TokenRegistry {
  const problems: string[] = [];
  const byHash = new Map<string, AgentIdentity>();
  const list = Array.isArray(entries)
    ? (entries as unknown[])
    : entries !== null &&
        typeof entries === 'object' &&
        Array.isArray((entries as { agents?: unknown }).agents)
      ? (entries as { agents: unknown[] }).agents
      : undefined;
  if (!list) {
    throw new MamoriError(
      ErrorCode.Config,
      `${source}: expected a JSON array of agent credentials or { "agents": [...] }`,
    );
  }
  list.forEach((raw, index) => {
    const at = `${source}[${index}]`;
    if (raw === null || typeof raw !== 'object') {
      problems.push(`${at}: expected an object`);
      return;
    }
    const entry = raw as Partial<Record<keyof TokenEntry, unknown>>;
    const { token, tokenSha256, tenant, agentId } = entry;
    if (typeof tenant !== 'string' || !NAME_PATTERN.test(tenant))
      problems.push(`${at}.tenant: expected a name of letters, digits, . _ -`);
    if (typeof agentId !== 'string' || !NAME_PATTERN.test(agentId))
      problems.push(`${at}.agentId: expected a name of letters, digits, . _ -`);
    let hash: string | undefined;
    if (typeof tokenSha256 === 'string' && /^[0-9a-f]{64}$/i.test(tokenSha256))
      hash = tokenSha256.toLowerCase();
    else if (typeof token === 'string' && token.length >= 16) hash = sha256Hex(token);
    else
      problems.push(
        `${at}: needs "tokenSha256" (64 hex digits) or "token" (at least 16 characters)`,
      );
    if (hash && byHash.has(hash)) problems.push(`${at}: the same token is configured twice`);
    if (hash && typeof tenant === 'string' && typeof agentId === 'string')
      byHash.set(hash, Object.freeze({ tenantId: tenant, agentId }));
  });
  if (problems.length > 0) {
    throw new MamoriError(
      ErrorCode.Config,
      `invalid agent credentials:\n  - ${problems.join('\n  - ')}`,
    );
  }
  return {
    // Lookup by a hash of the presented token: the map never compares secret bytes directly,
    // and a timing difference reveals nothing useful about a SHA-256 preimage.
    identify: (presented) => byHash.get(sha256Hex(presented)),
    size: byHash.size,
  };
}

/**
 * Loads credentials from a JSON file.
 * @throws MamoriError Config when the file is missing, not JSON, or has bad entries.
 */
export function loadTokenFile(path: string): TokenRegistry {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new MamoriError(ErrorCode.Config, `cannot read agent credentials file ${path}`, {
      cause: err,
      context: { path },
    });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new MamoriError(ErrorCode.Config, `${path}: not valid JSON (${(err as Error).message})`, {
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
