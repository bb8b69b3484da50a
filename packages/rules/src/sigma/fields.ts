import type { Event__Output } from '@mamori/proto';
import type { EventKind } from '../rule.js';
import { isIpv6 } from './cidr.js';

/** The Sigma log source categories Mamori's events answer, with the kinds each maps to. */
export const SIGMA_CATEGORY_KINDS = {
  process_creation: ['process_exec'],
  file_event: ['file_write', 'file_open', 'file_rename'],
  network_connection: ['network_connect', 'network_accept'],
} as const satisfies Record<string, readonly EventKind[]>;
export type SigmaCategory = keyof typeof SIGMA_CATEGORY_KINDS;

export function isSigmaCategory(name: string): name is SigmaCategory {
  return Object.hasOwn(SIGMA_CATEGORY_KINDS, name);
}

/** A field's value in an event as text, or undefined when the event does not carry it. */
export type FieldGetter = (event: Event__Output) => string | undefined;

interface ProcessLike {
  pid: number;
  ppid: number;
  exe: string;
  args: string[];
  cwd: string;
  user: string;
  login_uid: number;
  ancestors: { exe: string; args: string[] }[];
  exe_hash: string;
}

function processOf(event: Event__Output): ProcessLike | undefined {
  switch (event.payload) {
    case 'process_exec':
      return event.process_exec?.process ?? undefined;
    case 'file_write':
      return event.file_write?.process ?? undefined;
    case 'file_open':
      return event.file_open?.process ?? undefined;
    case 'file_rename':
      return event.file_rename?.process ?? undefined;
    case 'network_connect':
      return event.network_connect?.process ?? undefined;
    case 'network_accept':
      return event.network_accept?.process ?? undefined;
    default:
      return undefined;
  }
}

function connectionOf(event: Event__Output) {
  if (event.payload === 'network_connect') return event.network_connect?.connection ?? undefined;
  if (event.payload === 'network_accept') return event.network_accept?.connection ?? undefined;
  return undefined;
}

// Protobuf 3 cannot tell an empty string or a zero from an absent one: both read as absent,
// so `Field: null` holds for them and a plain value never matches them.
const text = (value: string | undefined): string | undefined =>
  value === undefined || value === '' ? undefined : value;
const id = (value: number | undefined): string | undefined =>
  value === undefined || value === 0 ? undefined : String(value);
const joined = (args: readonly string[] | undefined): string | undefined =>
  args === undefined || args.length === 0 ? undefined : args.join(' ');

/**
 * The side that initiated a connection is Sigma's source: for a connect that is the local
 * socket, for an accept the remote one.
 */
function endpoint(side: 'source' | 'destination', part: 'address' | 'port') {
  return (event: Event__Output): string | undefined => {
    const connection = connectionOf(event);
    if (connection === undefined) return undefined;
    const local = (event.payload === 'network_connect') === (side === 'source');
    if (part === 'address')
      return text(local ? connection.local_address : connection.remote_address);
    return id(local ? connection.local_port : connection.remote_port);
  };
}

const PROCESS_FIELDS: Record<string, FieldGetter> = {
  Image: (e) => text(processOf(e)?.exe),
  CommandLine: (e) => joined(processOf(e)?.args),
  CurrentDirectory: (e) => text(processOf(e)?.cwd),
  User: (e) => text(processOf(e)?.user),
  // Sysmon for Linux reports the audit login uid as LogonId; -1 means never logged in.
  LogonId: (e) => {
    const uid = processOf(e)?.login_uid;
    return uid === undefined || uid < 0 ? undefined : String(uid);
  },
  ProcessId: (e) => id(processOf(e)?.pid),
  ParentProcessId: (e) => id(processOf(e)?.ppid),
  ParentImage: (e) => text(processOf(e)?.ancestors[0]?.exe),
  ParentCommandLine: (e) => joined(processOf(e)?.ancestors[0]?.args),
  // Sysmon's list of hashes, of which Mamori computes SHA-256 only: "SHA256=<HEX>". A rule's
  // `Hashes|contains: 'SHA256=…'` matches it (case-insensitively); MD5 or IMPHASH values never.
  Hashes: (e) => {
    const hash = processOf(e)?.exe_hash ?? '';
    return hash.startsWith('sha256:') ? `SHA256=${hash.slice(7).toUpperCase()}` : undefined;
  },
};

const FILE_FIELDS: Record<string, FieldGetter> = {
  TargetFilename: (e) => {
    switch (e.payload) {
      case 'file_write':
        return text(e.file_write?.path);
      case 'file_open':
        return text(e.file_open?.path);
      case 'file_rename':
        return text(e.file_rename?.new_path);
      default:
        return undefined;
    }
  },
  SourceFilename: (e) => (e.payload === 'file_rename' ? text(e.file_rename?.old_path) : undefined),
};

const NETWORK_FIELDS: Record<string, FieldGetter> = {
  DestinationIp: endpoint('destination', 'address'),
  DestinationPort: endpoint('destination', 'port'),
  SourceIp: endpoint('source', 'address'),
  SourcePort: endpoint('source', 'port'),
  DestinationIsIpv6: (e) => {
    const address = endpoint('destination', 'address')(e);
    return address === undefined ? undefined : String(isIpv6(address));
  },
  SourceIsIpv6: (e) => {
    const address = endpoint('source', 'address')(e);
    return address === undefined ? undefined : String(isIpv6(address));
  },
  Protocol: (e) => {
    const protocol = connectionOf(e)?.protocol;
    if (protocol === 'L4_PROTOCOL_TCP') return 'tcp';
    if (protocol === 'L4_PROTOCOL_UDP') return 'udp';
    return undefined;
  },
  Initiated: (e) =>
    e.payload === 'network_connect' ? 'true' : e.payload === 'network_accept' ? 'false' : undefined,
};

const CATEGORY_FIELDS: Record<SigmaCategory, Record<string, FieldGetter>> = {
  process_creation: PROCESS_FIELDS,
  file_event: { ...PROCESS_FIELDS, ...FILE_FIELDS },
  network_connection: { ...PROCESS_FIELDS, ...NETWORK_FIELDS },
};

// Fields rules commonly use that Mamori's events cannot answer, with the reason a user reads.
const UNSUPPORTED_REASONS: Record<string, string> = {
  DestinationHostname:
    'connection events carry addresses, not the host name that was resolved to reach them',
  SourceHostname: 'connection events carry addresses, not host names',
  DestinationPortName: 'connection events carry port numbers, not service names',
  SourcePortName: 'connection events carry port numbers, not service names',
  OriginalFileName: 'Linux executables carry no version resource naming their original file',
  Hashes: 'the sensor reports one executable hash, not Sysmon’s list of hashes',
  ParentUser: 'ancestors carry no user',
  ProcessGuid: 'Mamori identifies processes by pid, without a GUID',
  ParentProcessGuid: 'Mamori identifies processes by pid, without a GUID',
  LogonGuid: 'Mamori has no logon sessions',
  IntegrityLevel: 'Linux processes have no integrity level',
  Product: 'Linux executables carry no version resource',
  Company: 'Linux executables carry no version resource',
  Description: 'Linux executables carry no version resource',
  FileVersion: 'Linux executables carry no version resource',
};

/** The getter for `field` in `category`, or why the field cannot be answered. */
export function resolveField(
  category: SigmaCategory,
  field: string,
): { getter: FieldGetter } | { reason: string } {
  const getter = CATEGORY_FIELDS[category][field];
  if (getter !== undefined) return { getter };
  const reason =
    UNSUPPORTED_REASONS[field] ??
    `field is not mapped onto Mamori's ${SIGMA_CATEGORY_KINDS[category].join('/')} events`;
  return { reason };
}

/** The field names each category answers, for documentation and tests. */
export function sigmaFieldNames(category: SigmaCategory): string[] {
  return Object.keys(CATEGORY_FIELDS[category]);
}
