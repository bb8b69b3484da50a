import { createHash } from 'node:crypto';
import { protoType, type Policy, type Policy__Output, type PolicyUpdate } from '@mamori/proto';

/** What reading one record of the policies topic did. */
export type PolicyRecordOutcome =
  { kind: 'applied'; tenant: string } | { kind: 'ignored'; reason: string };

/** Most characters of a key a reader accepts: `<tenant>/<policy id>`, both ids bounded. */
const MAX_KEY_LENGTH = 512;

/**
 * The policy sets of every tenant, as the policies topic (`Topics.policies`) says; no I/O, so
 * every reader of the topic (ingest, the detector) keeps the same sets: per key
 * `<tenant>/<policy id>` the last record, with deletions (`deleted`, or an empty value) removing the key. Log order
 * decides, not `updated_unix_micros`: that is what Kafka's compaction keeps, so reading the
 * compacted topic gives the same sets as reading every record.
 */
export class PolicyStore {
  readonly #type = protoType('mamori.v1.Policy');
  readonly #tenants = new Map<string, Map<string, Policy__Output>>();
  /** Each tenant's update, built when first asked for after a change. */
  readonly #updates = new Map<string, PolicyUpdate>();

  /**
   * Applies one record of the topic. Never throws: a record that cannot be a policy (a bad
   * key, bytes that are not a `mamori.v1.Policy`, a value naming another key) is ignored, with
   * the reason.
   */
  applyRecord(key: Buffer | null, value: Buffer): PolicyRecordOutcome {
    if (key === null || key.length === 0 || key.length > MAX_KEY_LENGTH) {
      return { kind: 'ignored', reason: 'the record key is not <tenant>/<policy id>' };
    }
    const text = key.toString('utf8');
    const slash = text.indexOf('/');
    const tenant = text.slice(0, slash);
    const id = text.slice(slash + 1);
    if (slash <= 0 || id === '') {
      return { kind: 'ignored', reason: 'the record key is not <tenant>/<policy id>' };
    }
    let policy: Policy__Output | undefined;
    if (value.length > 0) {
      try {
        policy = this.#type.toObject(this.#type.decode(value), {
          longs: Number,
          enums: String,
          defaults: true,
        }) as Policy__Output;
      } catch {
        return { kind: 'ignored', reason: 'the record is not a mamori.v1.Policy' };
      }
      // The key is the policy's identity; a value naming another one is a writer's bug, and
      // must not move a policy into another tenant. Empty ones are taken from the key.
      if (
        (policy.tenant_id !== '' && policy.tenant_id !== tenant) ||
        (policy.id !== '' && policy.id !== id)
      ) {
        return { kind: 'ignored', reason: 'the policy names another tenant or id than its key' };
      }
    }
    let policies = this.#tenants.get(tenant);
    if (policy === undefined || policy.deleted) {
      // An empty value is Kafka's own tombstone; `deleted` is Mamori's.
      if (!policies?.delete(id)) return { kind: 'applied', tenant };
      if (policies.size === 0) this.#tenants.delete(tenant);
    } else {
      if (policies === undefined) {
        policies = new Map();
        this.#tenants.set(tenant, policies);
      }
      policies.set(id, { ...policy, tenant_id: tenant, id });
    }
    this.#updates.delete(tenant);
    return { kind: 'applied', tenant };
  }

  /** The tenant's policies, sorted by id (every field set, as decoded); empty when none. */
  policies(tenant: string): Policy__Output[] {
    return [...(this.#tenants.get(tenant)?.values() ?? [])].sort((a, b) =>
      a.id < b.id ? -1 : a.id > b.id ? 1 : 0,
    );
  }

  /**
   * Applies records in order (see `applyRecord`). Returns the tenants whose set is not what it
   * was before the first of them (a change undone within the records is no change), and the
   * records ignored with why.
   */
  applyRecords(records: readonly { key: Buffer | null; value: Buffer; offset: number }[]): {
    changed: string[];
    ignored: { offset: number; reason: string }[];
  } {
    /** Each tenant touched, with its version before the records. */
    const before = new Map<string, string>();
    const ignored: { offset: number; reason: string }[] = [];
    for (const record of records) {
      const tenant = record.key?.toString('utf8').split('/', 1)[0] ?? '';
      const version = before.has(tenant) ? undefined : this.update(tenant).version;
      const outcome = this.applyRecord(record.key, record.value);
      if (outcome.kind === 'ignored') {
        ignored.push({ offset: record.offset, reason: outcome.reason });
      } else if (version !== undefined) {
        before.set(tenant, version);
      }
    }
    const changed = [...before].filter(([tenant, v]) => this.update(tenant).version !== v);
    return { changed: changed.map(([tenant]) => tenant), ignored };
  }

  /** The tenant's complete set, policies sorted by id; version '' when it has none. */
  update(tenant: string): PolicyUpdate {
    let update = this.#updates.get(tenant);
    if (update === undefined) {
      const policies = this.policies(tenant);
      update = { version: policyVersion(policies), policies };
      this.#updates.set(tenant, update);
    }
    return update;
  }

  /** Tenants that have at least one policy. */
  tenants(): string[] {
    return [...this.#tenants.keys()];
  }
}

/** JSON with object keys sorted, so that equal values give equal text. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * A stable version of a policy set: the first 32 hex digits of SHA-256 over the policies in
 * the order given (sorted by id by the caller), each in a canonical form (keys sorted, labels
 * included); '' for the empty set, which is what an agent without policies says it has.
 */
export function policyVersion(policies: readonly (Policy | Policy__Output)[]): string {
  if (policies.length === 0) return '';
  const hash = createHash('sha256');
  for (const policy of policies) hash.update(canonical(policy)).update('\n');
  return hash.digest('hex').slice(0, 32);
}
