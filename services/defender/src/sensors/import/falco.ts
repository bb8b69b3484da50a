import type { Event, Process, Workload } from '@mamori/proto';
import { Severity } from '@mamori/proto';
import { compact, int, isObject, label, rfc3339ToMicros, text, type JsonObject } from './common.js';

/** Falco priorities (falco.yaml `priority`) → Mamori severities. */
const SEVERITY: Readonly<Record<string, Severity>> = {
  emergency: Severity.SEVERITY_CRITICAL,
  alert: Severity.SEVERITY_CRITICAL,
  critical: Severity.SEVERITY_CRITICAL,
  error: Severity.SEVERITY_HIGH,
  warning: Severity.SEVERITY_MEDIUM,
  notice: Severity.SEVERITY_LOW,
  informational: Severity.SEVERITY_INFO,
  info: Severity.SEVERITY_INFO,
  debug: Severity.SEVERITY_INFO,
};

const EXEC_TYPES = new Set(['execve', 'execveat']);
const OPEN_TYPES = new Set(['open', 'openat', 'openat2', 'creat', 'open_by_handle_at']);
/** open(2) flags: O_WRONLY | O_RDWR. */
const WRITE_FLAGS = 0o3;

/**
 * One line of Falco's JSON output (`json_output: true`, with `json_include_output_property`)
 * → a Mamori event. The activity Falco saw becomes `process_exec`, `file_open` or
 * `network_connect`/`network_accept` when its output fields say what it was (the event type
 * and the process, file or connection fields each needs); the rule always travels in labels
 * (`falco.rule`, `falco.priority`, `falco.source`, `falco.tags`). A line whose fields do not
 * describe such an activity becomes a `scanner_finding` (scanner `falco`, category `runtime`,
 * rule_id the rule's name). Throws a TypeError naming the field when the line is no Falco alert.
 */
export function falcoToEvent(record: unknown): Event {
  if (!isObject(record)) throw new TypeError('not a JSON object');
  const rule = text(record['rule']);
  if (!rule) throw new TypeError('rule: missing');
  const priority = text(record['priority']) ?? '';
  const fields = isObject(record['output_fields']) ? record['output_fields'] : {};
  const observed =
    rfc3339ToMicros(record['time']) ??
    (typeof fields['evt.time'] === 'number' ? Math.floor(fields['evt.time'] / 1000) : undefined);
  if (observed === undefined) throw new TypeError('time: missing or not RFC 3339');

  const tags = Array.isArray(record['tags'])
    ? record['tags'].filter((t) => typeof t === 'string')
    : [];
  const labels: Record<string, string> = {
    sensor: 'falco',
    'falco.rule': label(rule),
    'falco.priority': priority,
  };
  const source = text(record['source']);
  if (source) labels['falco.source'] = source;
  if (tags.length > 0) labels['falco.tags'] = label(tags.join(','));

  const event: Event = { observed_unix_micros: observed, labels };
  const workload = falcoWorkload(fields);
  if (workload) event.workload = workload;

  const process = falcoProcess(fields);
  const evtType = text(fields['evt.type']) ?? '';
  const fdName = text(fields['fd.name']);
  const fdType = text(fields['fd.type']);
  if (process?.exe && EXEC_TYPES.has(evtType)) {
    event.process_exec = { process };
  } else if (process && fdName && (OPEN_TYPES.has(evtType) || fdType === 'file')) {
    const flags = int(fields['evt.arg.flags']) ?? int(fields['evt.rawarg.flags']);
    const write =
      fields['evt.is_open_write'] === true ||
      (flags !== undefined && (flags & WRITE_FLAGS) !== 0) ||
      /O_(WRONLY|RDWR)/.test(text(fields['evt.arg.flags']) ?? '');
    event.file_open = compact({ process, path: fdName, write, flags });
  } else if (process && (evtType === 'connect' || evtType === 'accept' || evtType === 'accept4')) {
    const connection = falcoConnection(fields);
    if (connection && evtType === 'connect') event.network_connect = { process, connection };
    else if (connection) event.network_accept = { process, connection };
  }
  if (!event.process_exec && !event.file_open && !event.network_connect && !event.network_accept) {
    event.scanner_finding = compact({
      scanner: 'falco',
      target: workload?.container_id ?? text(record['hostname']) ?? 'host',
      category: 'runtime',
      rule_id: rule,
      severity: SEVERITY[priority.toLowerCase()] ?? Severity.SEVERITY_MEDIUM,
      title: rule,
      description: text(record['output']),
      location: fdName ?? process?.exe,
      references: tags.length > 0 ? tags : undefined,
    });
  }
  return event;
}

function falcoProcess(fields: JsonObject): Process | undefined {
  const pid = int(fields['proc.pid']);
  if (pid === undefined || pid <= 0) return undefined;
  const cmdline = text(fields['proc.cmdline']);
  const ppid = int(fields['proc.ppid']);
  const pname = text(fields['proc.pname']);
  return compact({
    pid,
    ppid,
    name: text(fields['proc.name']),
    exe: text(fields['proc.exepath']) ?? text(fields['proc.exe']),
    // Falco prints the command line joined by spaces: arguments with spaces cannot be told apart.
    args: cmdline ? cmdline.split(' ') : undefined,
    cwd: text(fields['proc.cwd']),
    uid: int(fields['user.uid']),
    gid: int(fields['group.gid']),
    user: text(fields['user.name']),
    login_uid: int(fields['user.loginuid']),
    ancestors:
      ppid !== undefined || pname
        ? [compact({ pid: ppid, name: pname, exe: text(fields['proc.pexepath']) })]
        : undefined,
  });
}

function falcoWorkload(fields: JsonObject): Workload | undefined {
  const id = text(fields['container.id']);
  const namespace = text(fields['k8s.ns.name']);
  if ((!id || id === 'host') && !namespace) return undefined;
  return compact({
    container_id: id === 'host' ? undefined : id,
    container_name: text(fields['container.name']),
    privileged: fields['container.privileged'] === true ? true : undefined,
    pod_name: text(fields['k8s.pod.name']),
    pod_uid: text(fields['k8s.pod.uid']),
    namespace,
    image_repository: text(fields['container.image.repository']),
    image_tag: text(fields['container.image.tag']),
    image_digest: text(fields['container.image.digest']),
  });
}

function falcoConnection(fields: JsonObject): NonNullable<Event['network_connect']>['connection'] {
  const l4 = text(fields['fd.l4proto']);
  const remote = text(fields['fd.rip']) ?? text(fields['fd.sip']);
  if (!remote) return undefined;
  return compact({
    protocol: l4 === 'udp' ? ('L4_PROTOCOL_UDP' as const) : ('L4_PROTOCOL_TCP' as const),
    local_address: text(fields['fd.lip']) ?? text(fields['fd.cip']),
    local_port: int(fields['fd.lport']) ?? int(fields['fd.cport']),
    remote_address: remote,
    remote_port: int(fields['fd.rport']) ?? int(fields['fd.sport']),
  });
}
