import { constants } from 'node:os';
import { basename } from 'node:path';
import type { Event, Process, Workload } from '@mamori/proto';
import { Severity } from '@mamori/proto';
import { compact, int, isObject, label, rfc3339ToMicros, text, type JsonObject } from './common.js';

const FILE_FUNCTIONS = new Set([
  'security_file_permission',
  'security_file_open',
  'security_mmap_file',
  'fd_install',
  'do_sys_open',
  'do_filp_open',
]);
/** The mask argument of security_file_permission: MAY_WRITE. */
const MAY_WRITE = 0x2;

/**
 * One line of Tetragon's JSON export (`tetragon.log`, `tetra getevents -o json`) → a Mamori
 * event, or undefined for kinds it does not carry (process_loader, process_lsm, …).
 * `process_exec` and `process_exit` map to theirs; a `process_kprobe` (a TracingPolicy's
 * hook) becomes `network_connect` (tcp_connect with a sock_arg), `file_open` (file hooks with
 * a file_arg) or else a `scanner_finding` (scanner `tetragon`, category `runtime`, rule_id the
 * policy name or hooked function). Throws a TypeError naming the field when the line is
 * malformed.
 */
export function tetragonToEvent(record: unknown): Event | undefined {
  if (!isObject(record)) throw new TypeError('not a JSON object');
  const kind = ['process_exec', 'process_exit', 'process_kprobe'].find((k) => k in record);
  if (!kind) return undefined;
  const body = record[kind];
  if (!isObject(body)) throw new TypeError(`${kind}: not an object`);
  const observed = rfc3339ToMicros(record['time']);
  if (observed === undefined) throw new TypeError('time: missing or not RFC 3339');
  const raw = body['process'];
  if (!isObject(raw)) throw new TypeError(`${kind}.process: missing`);
  const process = tetragonProcess(raw, isObject(body['parent']) ? body['parent'] : undefined);
  if (!process) throw new TypeError(`${kind}.process.pid: missing`);

  const labels: Record<string, string> = { sensor: 'tetragon' };
  const execId = text(raw['exec_id']);
  if (execId) labels['tetragon.exec_id'] = label(execId);
  const event: Event = { observed_unix_micros: observed, labels };
  const workload = tetragonWorkload(raw);
  if (workload) event.workload = workload;

  if (kind === 'process_exec') {
    event.process_exec = { process };
    return event;
  }
  if (kind === 'process_exit') {
    const signal = text(body['signal']);
    event.process_exit = compact({
      process,
      exit_code: int(body['status']) ?? 0,
      signal: signal ? (constants.signals as Record<string, number>)[signal] : undefined,
    });
    return event;
  }

  const fn = text(body['function_name']) ?? '';
  const policy = text(body['policy_name']);
  labels['tetragon.function'] = fn;
  if (policy) labels['tetragon.policy'] = label(policy);
  const args = Array.isArray(body['args']) ? body['args'].filter(isObject) : [];
  const sock = args.map((a) => a['sock_arg']).find(isObject);
  const file = args.map((a) => a['file_arg'] ?? a['path_arg']).find(isObject);
  if (fn === 'tcp_connect' && sock && text(sock['daddr'])) {
    event.network_connect = {
      process,
      connection: compact({
        protocol: 'L4_PROTOCOL_TCP' as const,
        local_address: text(sock['saddr']),
        local_port: int(sock['sport']),
        remote_address: text(sock['daddr']),
        remote_port: int(sock['dport']),
      }),
    };
  } else if (FILE_FUNCTIONS.has(fn) && file && text(file['path'])) {
    const mask = args.map((a) => int(a['int_arg'])).find((n) => n !== undefined);
    event.file_open = compact({
      process,
      path: text(file['path']),
      write:
        fn === 'security_file_permission' && mask !== undefined
          ? (mask & MAY_WRITE) !== 0
          : undefined,
    });
  } else {
    event.scanner_finding = compact({
      scanner: 'tetragon',
      target: workload?.container_id ?? text(record['node_name']) ?? 'host',
      category: 'runtime',
      rule_id: policy ?? fn ?? 'kprobe',
      severity: Severity.SEVERITY_MEDIUM,
      title: policy ? `${policy}: ${fn}` : fn,
      location: text(file?.['path']) ?? process.exe,
    });
  }
  return event;
}

function tetragonProcess(raw: JsonObject, parent: JsonObject | undefined): Process | undefined {
  const pid = int(raw['pid']);
  if (pid === undefined || pid <= 0) return undefined;
  const binary = text(raw['binary']);
  const auid = int(raw['auid']);
  const start = rfc3339ToMicros(raw['start_time']);
  const parentPid = parent ? int(parent['pid']) : undefined;
  return compact({
    pid,
    ppid: parentPid,
    name: binary ? basename(binary) : undefined,
    exe: binary,
    args: binary ? [binary, ...splitArgs(text(raw['arguments']))] : undefined,
    cwd: text(raw['cwd']),
    uid: int(raw['uid']),
    // Tetragon prints an unset login uid as 4294967295; Mamori's is -1.
    login_uid: auid === undefined ? undefined : auid === 4294967295 ? -1 : auid,
    start_unix_micros: start,
    ancestors:
      parent && parentPid !== undefined
        ? [
            compact({
              pid: parentPid,
              name: text(parent['binary']) ? basename(text(parent['binary'])!) : undefined,
              exe: text(parent['binary']),
              args: splitArgs(text(parent['arguments'])),
            }),
          ]
        : undefined,
  });
}

/** Tetragon's `arguments`: space-separated, arguments with spaces in double quotes. */
function splitArgs(value: string | undefined): string[] {
  if (!value) return [];
  return [...value.matchAll(/"((?:[^"\\]|\\.)*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? '');
}

function tetragonWorkload(raw: JsonObject): Workload | undefined {
  const pod = isObject(raw['pod']) ? raw['pod'] : undefined;
  const container = pod && isObject(pod['container']) ? pod['container'] : undefined;
  const image = container && isObject(container['image']) ? container['image'] : undefined;
  const docker = text(raw['docker']);
  if (!pod && !docker) return undefined;
  // containerd://<id> → runtime and id.
  const ref = text(container?.['id']);
  const scheme = ref?.indexOf('://') ?? -1;
  const imageName = text(image?.['name']);
  const imageId = text(image?.['id']);
  const labels = pod && isObject(pod['pod_labels']) ? pod['pod_labels'] : undefined;
  return compact({
    container_id: ref && scheme > 0 ? ref.slice(scheme + 3) : (ref ?? docker),
    runtime: ref && scheme > 0 ? ref.slice(0, scheme) : undefined,
    container_name: text(container?.['name']),
    pod_name: text(pod?.['name']),
    namespace: text(pod?.['namespace']),
    image_repository: imageName ? splitImage(imageName).repository : undefined,
    image_tag: imageName ? splitImage(imageName).tag : undefined,
    image_digest: imageId?.includes('@') ? imageId.slice(imageId.indexOf('@') + 1) : undefined,
    pod_labels: labels
      ? Object.fromEntries(
          Object.entries(labels).filter((e): e is [string, string] => typeof e[1] === 'string'),
        )
      : undefined,
  });
}

/** `registry:5000/city/portal:1.2@sha256:…` → repository and tag (a port is no tag). */
function splitImage(name: string): { repository: string; tag?: string } {
  const ref = name.split('@')[0]!;
  const colon = ref.lastIndexOf(':');
  if (colon <= ref.lastIndexOf('/')) return { repository: ref };
  return { repository: ref.slice(0, colon), tag: ref.slice(colon + 1) };
}
