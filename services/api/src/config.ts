import { readBusConfig, type BusConfig } from '@mamori/bus';
import { createEnvReader, DEFAULT_DATA_DIR, isMamoriError } from '@mamori/common';
import { MAX_POLICY_UPDATE_BYTES, Topics } from '@mamori/proto';
import { readWarehouseConfig, type WarehouseConfig } from '@mamori/warehouse';
import { createTokenRegistry, loadTokenFile, type TokenRegistry } from './auth/tokens.js';

export interface ApiLimits {
  /** Deepest selection nesting a query may have (introspection excluded). */
  maxDepth: number;
  /** Highest cost a query may have: every field costs 1, times the `first` of each connection above it. */
  maxComplexity: number;
  /** Largest `first` of a connection. */
  maxPageSize: number;
  /** Largest request body, in bytes. */
  maxBodyBytes: number;
  /**
   * Largest request body of an admin's token, in bytes (at least `maxBodyBytes`): policies
   * carry OpenAPI documents of up to 1 MiB.
   */
  maxAdminBodyBytes: number;
  /**
   * Largest encoded policy set of a tenant (one message to each agent), in bytes; at most
   * `MAX_POLICY_UPDATE_BYTES`, what agents take.
   */
  maxPolicySetBytes: number;
  /** Longest a query may wait for the warehouse, in ms. */
  queryTimeoutMs: number;
}

export interface ApiConfig {
  host: string;
  port: number;
  warehouse: WarehouseConfig;
  tokens: TokenRegistry;
  limits: ApiLimits;
  /** An agent last seen this long ago or less counts as connected, in seconds. */
  connectedWithinSeconds: number;
  /**
   * The bus of the policies topic, only when `MAMORI_BUS` is set: the embedded log belongs to
   * one process, and an API that opened it by default would lock out ingest. Without it the
   * policy fields answer POLICIES_UNAVAILABLE.
   */
  bus?: BusConfig;
  policiesTopic: string;
  /** The rule tuning topic and the detectors' rule catalog topic (on `bus`). */
  tuningTopics: { tuning: string; catalog: string };
}

/**
 * The API's configuration from environment variables, validated, all problems reported at
 * once. See the README's configuration reference for each variable.
 * @throws MamoriError Config listing every problem.
 */
export function readApiConfig(env: NodeJS.ProcessEnv = process.env): Readonly<ApiConfig> {
  const read = createEnvReader(env);
  const dataDir = read.string('MAMORI_DATA_DIR', DEFAULT_DATA_DIR);
  const host = read.string('MAMORI_API_HOST', '127.0.0.1');
  const port = read.int('MAMORI_API_PORT', 8080, { min: 0, max: 65_535 });
  const warehouse = readWarehouseConfig(read, { dataDir });
  const limits: ApiLimits = {
    // 10 levels: the deepest useful query (alerts → edges → node → …) needs about 6.
    maxDepth: read.int('MAMORI_API_MAX_DEPTH', 10, { min: 2, max: 100 }),
    // 50,000: two full pages of 500 events with every field each, not four.
    maxComplexity: read.int('MAMORI_API_MAX_COMPLEXITY', 50_000, { min: 10, max: 10_000_000 }),
    // 500 items: one response stays a few MB of JSON; the warehouse allows 1000.
    maxPageSize: read.int('MAMORI_API_MAX_PAGE_SIZE', 500, { min: 1, max: 500 }),
    // 64 KiB: far more than any query document with its variables needs.
    maxBodyBytes: read.int('MAMORI_API_MAX_BODY_BYTES', 64 * 1024, { min: 1024, max: 16 << 20 }),
    // 4 MiB: a policy with a 1 MiB OpenAPI document, escaped as a JSON string, and room to spare.
    // Only tokens with the admin role get it; the body is bounded before it is read.
    maxAdminBodyBytes: read.int('MAMORI_API_MAX_ADMIN_BODY_BYTES', 4 << 20, {
      min: 1024,
      max: 64 << 20,
    }),
    // What agents take in one message; lower it to keep pushes to a fleet small.
    maxPolicySetBytes: read.int('MAMORI_API_MAX_POLICY_SET_BYTES', MAX_POLICY_UPDATE_BYTES, {
      min: 64 * 1024,
      max: MAX_POLICY_UPDATE_BYTES,
    }),
    // 30 s: longer than any query on a tenant's retention window takes when ClickHouse is healthy.
    queryTimeoutMs: read.int('MAMORI_API_QUERY_TIMEOUT_MS', 30_000, { min: 1, max: 600_000 }),
  };
  // 90 s: three of ingest's agent heartbeats (MAMORI_INGEST_AGENT_HEARTBEAT_MS, 30 s), so an
  // agent whose ingest crashed (and never said its stream ended) shows disconnected soon.
  const connectedWithinSeconds = read.int('MAMORI_API_AGENT_CONNECTED_SECONDS', 90, {
    min: 1,
    max: 86_400,
  });
  const bus =
    read.optionalString('MAMORI_BUS') === undefined
      ? undefined
      : readBusConfig(read, { dataDir, service: 'api' });
  const policiesTopic = read.string('MAMORI_TOPIC_POLICIES', Topics.policies);
  const tuningTopics = {
    tuning: read.string('MAMORI_TOPIC_RULE_TUNING', Topics.ruleTuning),
    catalog: read.string('MAMORI_TOPIC_RULE_CATALOG', Topics.ruleCatalog),
  };
  let tokens: TokenRegistry | undefined;
  const file = read.optionalString('MAMORI_API_TOKENS_FILE');
  const inline = read.optionalString('MAMORI_API_TOKENS');
  try {
    if (file !== undefined && inline !== undefined) {
      read.problem('MAMORI_API_TOKENS_FILE and MAMORI_API_TOKENS: set only one');
    } else if (file !== undefined) {
      tokens = loadTokenFile(file);
    } else if (inline !== undefined) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(inline);
      } catch {
        read.problem('MAMORI_API_TOKENS: not valid JSON');
      }
      if (parsed !== undefined) tokens = createTokenRegistry(parsed, 'MAMORI_API_TOKENS');
    } else {
      read.problem('MAMORI_API_TOKENS_FILE or MAMORI_API_TOKENS: required (API tokens)');
    }
  } catch (err) {
    if (!isMamoriError(err)) throw err;
    read.problem(err.message);
  }
  read.done();
  return Object.freeze({
    host,
    port,
    warehouse,
    tokens: tokens!,
    limits: Object.freeze(limits),
    connectedWithinSeconds,
    ...(bus ? { bus: Object.freeze(bus) } : {}),
    policiesTopic,
    tuningTopics: Object.freeze(tuningTopics),
  });
}
