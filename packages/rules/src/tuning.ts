import {
  protoType,
  type Event__Output,
  type RuleException__Output,
  type RuleSetting__Output,
  type RuleTuning__Output,
} from '@mamori/proto';
import { compileRuleException, type CompiledRuleException } from './falco/exceptions.js';
import type { CompiledRule } from './rule.js';

/** Most characters of a key a reader accepts: `<tenant>/<kind>/<id or rule>`, all bounded. */
const MAX_KEY_LENGTH = 1024;

/** The two kinds of tuning records, as the record key names them. */
export type TuningKind = 'exception' | 'setting';

/** The key of a tuning record: `<tenant>/exception/<id>` or `<tenant>/setting/<rule>`. */
export function ruleTuningKey(tenant: string, kind: TuningKind, name: string): string {
  return `${tenant}/${kind}/${name}`;
}

/** A tenant's live records (never tombstones) by id or rule. */
interface TenantTuning {
  exceptions: Map<string, RuleTuning__Output>;
  settings: Map<string, RuleTuning__Output>;
}

const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The detection tuning of every tenant (rule exceptions and rule settings), as the rule tuning
 * topic (`Topics.ruleTuning`) says; no I/O, so the detector and the API read the topic alike:
 * per key the last record, a tombstone (`deleted`, or an empty value) removing the key. Log
 * order decides, as for policies.
 */
export class RuleTuningStore {
  readonly #type = protoType('mamori.v1.RuleTuning');
  readonly #tenants = new Map<string, TenantTuning>();

  /**
   * Applies records in order. Never throws: a record that cannot be tuning (a bad key, bytes
   * that are not a `mamori.v1.RuleTuning`, a value naming another tenant, kind or id than its
   * key) is ignored, with the reason. Returns the tenants a record applied to.
   */
  applyRecords(records: readonly { key: Buffer | null; value: Buffer; offset: number }[]): {
    changed: string[];
    ignored: { offset: number; reason: string }[];
  } {
    const changed = new Set<string>();
    const ignored: { offset: number; reason: string }[] = [];
    for (const record of records) {
      const outcome = this.#apply(record.key, record.value);
      if (typeof outcome === 'string') ignored.push({ offset: record.offset, reason: outcome });
      else changed.add(outcome.tenant);
    }
    return { changed: [...changed], ignored };
  }

  #apply(key: Buffer | null, value: Buffer): { tenant: string } | string {
    const shape = 'the record key is not <tenant>/exception/<id> or <tenant>/setting/<rule>';
    if (key === null || key.length === 0 || key.length > MAX_KEY_LENGTH) return shape;
    const text = key.toString('utf8');
    const first = text.indexOf('/');
    const second = first < 0 ? -1 : text.indexOf('/', first + 1);
    const tenant = text.slice(0, first);
    const kind = text.slice(first + 1, second);
    const name = text.slice(second + 1);
    if (first <= 0 || second < 0 || name === '' || (kind !== 'exception' && kind !== 'setting')) {
      return shape;
    }
    let tuning: RuleTuning__Output | undefined;
    if (value.length > 0) {
      try {
        tuning = this.#type.toObject(this.#type.decode(value), {
          longs: Number,
          enums: String,
          defaults: true,
          oneofs: true,
        }) as RuleTuning__Output;
      } catch {
        return 'the record is not a mamori.v1.RuleTuning';
      }
      if (tuning.tenant_id !== '' && tuning.tenant_id !== tenant) {
        return 'the record names another tenant than its key';
      }
      // A tombstone may leave its member empty; a live record's member names its key.
      if (!tuning.deleted) {
        if (tuning.tuning !== kind) return `the record holds no ${kind}, as its key says`;
        const named = kind === 'exception' ? tuning.exception?.id : tuning.setting?.rule;
        if (named !== name)
          return `the ${kind} names another ${kind === 'exception' ? 'id' : 'rule'} than its key`;
      }
    }
    let of = this.#tenants.get(tenant);
    if (tuning === undefined || tuning.deleted) {
      if (of !== undefined) {
        if (kind === 'exception') of.exceptions.delete(name);
        else of.settings.delete(name);
        if (of.exceptions.size === 0 && of.settings.size === 0) this.#tenants.delete(tenant);
      }
      return { tenant };
    }
    if (of === undefined) {
      of = { exceptions: new Map(), settings: new Map() };
      this.#tenants.set(tenant, of);
    }
    if (kind === 'exception') of.exceptions.set(name, tuning);
    else of.settings.set(name, tuning);
    return { tenant };
  }

  /** The tenant's exceptions, sorted by id. */
  exceptions(tenant: string): RuleException__Output[] {
    return this.records(tenant, 'exception').map((r) => r.exception!);
  }

  /** The tenant's rule settings, sorted by rule. */
  settings(tenant: string): RuleSetting__Output[] {
    return this.records(tenant, 'setting').map((r) => r.setting!);
  }

  /**
   * The tenant's live records of a kind, whole (who wrote them and when), sorted by exception
   * id or rule.
   */
  records(tenant: string, kind: TuningKind): RuleTuning__Output[] {
    const of = this.#tenants.get(tenant);
    const map = kind === 'exception' ? of?.exceptions : of?.settings;
    return [...(map?.entries() ?? [])].sort(([a], [b]) => byText(a, b)).map(([, r]) => r);
  }

  /** Tenants with at least one exception or setting. */
  tenants(): string[] {
    return [...this.#tenants.keys()];
  }
}

/** Why an alert of a rule was not raised for a tenant. */
export type Suppression = { by: 'setting' } | { by: 'exception'; id: string };

/** A tenant's tuning compiled for evaluation, and what could not be compiled. */
export interface CompiledTuning {
  /**
   * Why `rule` raises no alert on `event`, or undefined when it does: the tenant disabled the
   * rule, or one of its exceptions for the rule holds on the event.
   */
  suppression(rule: Pick<CompiledRule, 'id'>, event: Event__Output): Suppression | undefined;
  /** Exceptions that could not be compiled, by id, with why; they silence nothing. */
  readonly problems: readonly { id: string; message: string }[];
  /** Exceptions and disabled rules in force. */
  readonly exceptions: number;
  readonly disabled: number;
}

/**
 * Compiles a tenant's exceptions and settings. Never throws: an exception that cannot be
 * compiled (the API refuses those, but the topic may hold one written by an older version) is
 * a problem and silences nothing.
 */
export function compileTuning(
  exceptions: readonly RuleException__Output[],
  settings: readonly RuleSetting__Output[],
): CompiledTuning {
  const disabled = new Set(settings.filter((s) => !s.enabled).map((s) => s.rule));
  const byRule = new Map<string, { id: string; compiled: CompiledRuleException }[]>();
  const problems: { id: string; message: string }[] = [];
  for (const exception of exceptions) {
    let compiled: CompiledRuleException;
    try {
      compiled = compileRuleException(exceptionSpecOf(exception));
    } catch (err) {
      problems.push({
        id: exception.id,
        message: err instanceof Error ? err.message : String(err),
      });
      continue;
    }
    let list = byRule.get(exception.rule);
    if (list === undefined) byRule.set(exception.rule, (list = []));
    list.push({ id: exception.id, compiled });
  }
  return {
    problems,
    exceptions: exceptions.length - problems.length,
    disabled: disabled.size,
    suppression(rule, event) {
      if (disabled.has(rule.id)) return { by: 'setting' };
      const list = byRule.get(rule.id);
      if (list === undefined) return undefined;
      for (const { id, compiled } of list) {
        if (compiled.holds(event)) return { by: 'exception', id };
      }
      return undefined;
    },
  };
}

/** The compiler's view of an exception record. */
export function exceptionSpecOf(exception: RuleException__Output): {
  name: string;
  fields: readonly string[];
  comps: readonly string[];
  values: readonly (readonly string[])[];
} {
  return {
    name: exception.id,
    fields: exception.fields,
    comps: exception.comps,
    values: exception.values.map((tuple) => tuple.values),
  };
}
