import { createHash } from 'node:crypto';
import { protoType, type Alert, type Event__Output } from '@mamori/proto';
import type { CompiledRule, Severity } from '@mamori/rules';

/** The rules' severities → `mamori.v1.Severity` names. */
export const ALERT_SEVERITIES = {
  info: 'SEVERITY_INFO',
  low: 'SEVERITY_LOW',
  medium: 'SEVERITY_MEDIUM',
  high: 'SEVERITY_HIGH',
  critical: 'SEVERITY_CRITICAL',
} as const satisfies Record<Severity, string>;

/**
 * The id of the alert a rule raises on an event: the first 32 hex digits (128 bits) of the
 * SHA-256 of rule id, tenant, agent and event id, NUL-separated (no field holds a NUL, so two
 * different tuples never join into the same text). A replay of the event gives the same id,
 * and the warehouse keeps one alert per id.
 */
export function alertId(
  ruleId: string,
  tenantId: string,
  agentId: string,
  eventId: string,
): string {
  return createHash('sha256')
    .update(`${ruleId}\0${tenantId}\0${agentId}\0${eventId}`)
    .digest('hex')
    .slice(0, 32);
}

/**
 * The alert `rule` raises on `event`: identity and time from the event, rule id, name,
 * severity and tags from the rule, its rendered output as title and the fields it reports as
 * details. A rule whose output cannot be rendered still alerts, titled with its name.
 */
export function toAlert(rule: CompiledRule, event: Event__Output): Alert {
  let title: string;
  let details: Record<string, string>;
  try {
    title = rule.render(event);
  } catch {
    title = rule.name;
  }
  try {
    details = rule.details(event);
  } catch {
    details = {};
  }
  return {
    id: alertId(rule.id, event.tenant_id, event.agent_id, event.id),
    tenant_id: event.tenant_id,
    observed_unix_micros: event.observed_unix_micros,
    rule_id: rule.id,
    rule_name: rule.name,
    severity: ALERT_SEVERITIES[rule.severity],
    title: title === '' ? rule.name : title,
    agent_id: event.agent_id,
    event_id: event.id,
    hostname: event.host?.hostname ?? '',
    ...(event.workload ? { workload: event.workload } : {}),
    tags: [...rule.tags],
    details,
  };
}

/** Encodes alerts as the bytes of `Topics.alerts` records (protobuf `mamori.v1.Alert`). */
export interface AlertCodec {
  /** @throws Error when a field has the wrong type (a programmer error). */
  encode(alert: Alert): Buffer;
}

/** The codec of alert records, the same message the store decodes. */
export function createAlertCodec(): AlertCodec {
  const type = protoType('mamori.v1.Alert');
  return {
    encode(alert) {
      const bytes = type.encode(type.fromObject(alert)).finish();
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    },
  };
}
