import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ErrorCode, MamoriError } from './errors.js';

/**
 * Bearer-token credentials, for every service that takes them (ingest's agents, the API's
 * analysts): a JSON list of entries, each with the token itself or, better, its SHA-256 in
 * hex, plus what the token stands for. Only hashes are kept in memory.
 */

/** What one kind of credential looks like. */
export interface CredentialSpec<T> {
  /** How messages name the list, e.g. "agent credentials". */
  what: string;
  /** Key of the list in the `{ "<key>": [...] }` form of the file. */
  listKey: string;
  /**
   * The identity an entry stands for, or undefined after pushing its problems (each prefixed
   * with `at`, e.g. `${at}.tenant: …`).
   */
  identity(entry: Readonly<Record<string, unknown>>, at: string, problems: string[]): T | undefined;
}

/** Maps presented bearer tokens to identities. */
export interface CredentialRegistry<T> {
  /** The identity of a presented token, or undefined when it is unknown. */
  identify(token: string): T | undefined;
  readonly size: number;
}

/** Tenants, agent ids and other names in credentials: letters, digits, `.`, `_`, `-`. */
export function isCredentialName(value: unknown): value is string {
  return typeof value === 'string' && /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(value);
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/**
 * A registry from parsed JSON (`[...]` or `{ "<listKey>": [...] }`), checking every entry and
 * reporting all problems at once. `source` names where the entries came from.
 * @throws MamoriError Config listing each bad entry by index and field.
 */
export function createCredentialRegistry<T>(
  entries: unknown,
  source: string,
  spec: CredentialSpec<T>,
): CredentialRegistry<T> {
  const list = Array.isArray(entries)
    ? (entries as unknown[])
    : entries !== null &&
        typeof entries === 'object' &&
        Array.isArray((entries as Record<string, unknown>)[spec.listKey])
      ? ((entries as Record<string, unknown>)[spec.listKey] as unknown[])
      : undefined;
  if (!list) {
    throw new MamoriError(
      ErrorCode.Config,
      `${source}: expected a JSON array of ${spec.what} or { "${spec.listKey}": [...] }`,
    );
  }
  const problems: string[] = [];
  const byHash = new Map<string, T>();
  list.forEach((raw, index) => {
    const at = `${source}[${index}]`;
    if (raw === null || typeof raw !== 'object') {
      problems.push(`${at}: expected an object`);
      return;
    }
    const entry = raw as Record<string, unknown>;
    const identity = spec.identity(entry, at, problems);
    const { token, tokenSha256 } = entry;
    let hash: string | undefined;
    if (typeof tokenSha256 === 'string' && /^[0-9a-f]{64}$/i.test(tokenSha256)) {
      hash = tokenSha256.toLowerCase();
    } else if (typeof token === 'string' && token.length >= 16) {
      hash = sha256Hex(token);
    } else {
      problems.push(
        `${at}: needs "tokenSha256" (64 hex digits) or "token" (at least 16 characters)`,
      );
    }
    if (hash && byHash.has(hash)) problems.push(`${at}: the same token is configured twice`);
    if (hash && identity !== undefined) byHash.set(hash, Object.freeze(identity));
  });
  if (problems.length > 0) {
    throw new MamoriError(
      ErrorCode.Config,
      `invalid ${spec.what}:\n  - ${problems.join('\n  - ')}`,
    );
  }
  return {
    // Lookup by a hash of the presented token: no secret bytes are compared, and a timing
    // difference reveals nothing useful about a SHA-256 preimage.
    identify: (presented) => byHash.get(sha256Hex(presented)),
    size: byHash.size,
  };
}

/**
 * A registry from a JSON file.
 * @throws MamoriError Config when the file is missing, not JSON, or has bad entries.
 */
export function loadCredentialFile<T>(
  path: string,
  spec: CredentialSpec<T>,
): CredentialRegistry<T> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new MamoriError(ErrorCode.Config, `cannot read ${spec.what} file ${path}`, {
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
  return createCredentialRegistry(parsed, path, spec);
}

/** The token of `authorization: Bearer <token>`, or undefined. */
export function bearerToken(authorization: unknown): string | undefined {
  if (typeof authorization !== 'string') return undefined;
  const match = /^Bearer ([\x21-\x7e]{1,4096})$/i.exec(authorization.trim());
  return match?.[1];
}
