import type { Alert, Event__Output } from '@mamori/proto';
import { ALERT_SEVERITIES } from '../detection/alert.js';
import { canonicalAddress } from './address.js';
import { statefulAlertId, type StatefulRule } from './rule.js';
import { createDistinctWindows } from './window.js';

export interface PortScanOptions {
  /** Distinct remote ports of one destination that make a scan. @default 15 */
  threshold?: number;
  /** Window, in µs of event time. @default 300_000_000 (5 minutes) */
  windowMicros?: number;
  /**
   * Most keys (source and destination pairs) held per partition of the events topic; beyond it
   * the least recently seen pair is dropped and counted as an eviction.
   * @default 10_000 (a key holds at most `threshold` ports: about 2 KB each, 20 MB per partition at worst)
   */
  maxKeys?: number;
}

/** The rule's id, as alerts and metrics show it. */
export const PORT_SCAN_RULE_ID = 'mamori:Port scan';

/** Transport protocols as the port's prefix in the rule's values and details. */
const PROTOCOLS: Record<string, string> = {
  L4_PROTOCOL_TCP: 'tcp',
  L4_PROTOCOL_UDP: 'udp',
};

/**
 * The source of a connection, as the port scan keys it: the container when the process ran in
 * one (its address changes with every restart, its id does not), else the host (the agent) and
 * the local address, so that two interfaces of one node are two sources.
 */
function sourceOf(event: Event__Output, localAddress: string): string {
  const container = event.workload?.container_id ?? '';
  if (container !== '') return `container:${event.agent_id}/${container}`;
  return `host:${event.agent_id}/${canonicalAddress(localAddress)}`;
}

/**
 * Port scan (ATT&CK T1046, Network Service Discovery): one source connecting to at least
 * `threshold` distinct remote ports of one destination address within `windowMicros` of event
 * time. A port is counted with its protocol (`tcp/22` and `udp/22` are two services; an
 * unspecified protocol counts as `ip/<port>`). The key is tenant, source and destination; it
 * fires once per burst, on the event that reaches the threshold, and not again until the pair
 * has been quiet for a whole window.
 */
export function createPortScanRule(options: PortScanOptions = {}): StatefulRule {
  const threshold = options.threshold ?? 15;
  const windowMicros = options.windowMicros ?? 300_000_000;
  const maxKeys = options.maxKeys ?? 10_000;
  const minutes = windowMicros / 60_000_000;
  const rule = {
    id: PORT_SCAN_RULE_ID,
    name: 'Port scan',
    severity: 'medium',
    tags: ['mamori', 'network', 'mitre_discovery', 'T1046'],
    kinds: ['network_connect'],
  } as const satisfies Omit<StatefulRule, 'create'>;
  return {
    ...rule,
    create(hooks, from) {
      const windows = createDistinctWindows(
        { windowMicros, threshold, maxKeys, onEvict: () => hooks.onEvict() },
        from,
      );
      return {
        get keys() {
          return windows.size;
        },
        serialize: () => windows.serialize(),
        observe(event): Alert | undefined {
          if (event.payload !== 'network_connect') return undefined;
          const connection = event.network_connect?.connection;
          if (!connection) return undefined;
          const { remote_address: remote, remote_port: port, local_address: local } = connection;
          if (remote === '' || port === 0) return undefined;
          const destination = canonicalAddress(remote);
          const source = sourceOf(event, local);
          const key = `${event.tenant_id}\0${source}\0${destination}`;
          const protocol = PROTOCOLS[connection.protocol] ?? 'ip';
          const outcome = windows.observe(key, `${protocol}/${port}`, event.observed_unix_micros);
          if (typeof outcome === 'string') return undefined;
          const ports = outcome.values;
          const process = event.network_connect?.process;
          const sourceText = source.slice(source.indexOf(':') + 1);
          return {
            id: statefulAlertId(rule.id, key, event),
            tenant_id: event.tenant_id,
            observed_unix_micros: event.observed_unix_micros,
            rule_id: rule.id,
            rule_name: rule.name,
            severity: ALERT_SEVERITIES[rule.severity],
            title:
              `Port scan of ${destination}: ${ports.length} ports within ${minutes} minutes ` +
              `(source=${sourceText} proc=${process?.name ?? ''})`,
            agent_id: event.agent_id,
            event_id: event.id,
            hostname: event.host?.hostname ?? '',
            ...(event.workload ? { workload: event.workload } : {}),
            tags: [...rule.tags],
            details: {
              'fd.sip': destination,
              'fd.cip': canonicalAddress(local),
              ports: ports.join(','),
              port_count: String(ports.length),
              window_minutes: String(minutes),
              source: sourceText,
              ...(process ? { 'proc.name': process.name, 'proc.pid': String(process.pid) } : {}),
            },
          };
        },
      };
    },
  };
}
