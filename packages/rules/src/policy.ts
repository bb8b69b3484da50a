import type {
  Connection__Output,
  Event__Output,
  Policy__Output,
  Process__Output,
} from '@mamori/proto';
import { processOfEvent, resolvePath } from './falco/fields.js';
import { loadFalcoRules } from './falco/loader.js';
import { compileGlob, compilePathPrefixes } from './falco/match.js';
import { parseCidr, parseIp, type Network } from './falco/net.js';
import type {
  CompiledRule,
  EventKind,
  RuleAction,
  RuleProblem,
  RuleSet,
  Severity,
  SkippedRule,
} from './rule.js';

/**
 * Runtime policies (`mamori.v1.Policy`) as rules. Every part of a policy becomes one
 * `CompiledRule` built directly from the policy's values — never rule text — so a value
 * holding quotes, parentheses or commas is compared literally and cannot change what a rule
 * checks. The policy's own `rules` (Falco's language) are loaded as a file of their own. Every
 * rule is scoped to the policy's tenant and selector and carries the policy's mode as its
 * `action`.
 */

/** The parts of a policy, as the last component of their rule ids. */
export const POLICY_PARTS = [
  'denied-processes',
  'allowed-processes',
  'protected-paths',
  'allowed-destinations',
] as const;
export type PolicyPart = (typeof POLICY_PARTS)[number];

const ACTION_OF_MODE: Readonly<Record<string, RuleAction>> = {
  POLICY_MODE_UNSPECIFIED: 'alert',
  POLICY_MODE_DETECT: 'alert',
  POLICY_MODE_PREVENT: 'prevent',
  POLICY_MODE_BLOCK: 'block',
};

/** A policy's mode as a rule action; an unknown or unset mode only alerts. */
export function actionOfPolicyMode(mode: Policy__Output['mode']): RuleAction {
  return ACTION_OF_MODE[mode] ?? 'alert';
}

/** Kinds of file events that change what is at a path. */
const FILE_CHANGE_KINDS: readonly EventKind[] = [
  'file_open',
  'file_write',
  'file_rename',
  'file_delete',
  'file_link',
  'file_symlink',
];

// open(2) bits: O_ACCMODE, O_CREAT, O_TRUNC (Linux x86-64 and arm64).
const O_ACCMODE = 0o3;
const O_CREAT = 0o100;
const O_TRUNC = 0o1000;

/** Severity of a policy's own parts: a tenant said this must not happen. */
const PART_SEVERITY: Severity = 'high';
const PART_PRIORITY = 'ERROR';

type Predicate = (event: Event__Output) => boolean;
type StringTest = (value: string) => boolean;

/** A policy's file name in problems and `file` of its rules. */
function policyFile(policy: Policy__Output): string {
  return policy.tenant_id === ''
    ? `policy:${policy.id}`
    : `policy:${policy.tenant_id}/${policy.id}`;
}

function basename(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? path : path.slice(slash + 1);
}

/** Any of the tests holds; the empty list holds for nothing. */
function anyOf(tests: readonly StringTest[]): StringTest {
  if (tests.length === 1) return tests[0]!;
  return (value) => {
    for (const test of tests) if (test(value)) return true;
    return false;
  };
}

/**
 * The tenant and selector of a policy as one predicate: the event's tenant is the policy's
 * (when it names one), and its workload matches every non-empty selector field. A policy with
 * a selector never matches host-level events.
 */
function compileScope(
  policy: Policy__Output,
  problem: (message: string) => void,
): Predicate | undefined {
  const tenant = policy.tenant_id;
  const compileAll = (field: string, patterns: readonly string[]): StringTest | undefined => {
    const tests: StringTest[] = [];
    for (const pattern of patterns) {
      try {
        tests.push(compileGlob(pattern));
      } catch (err) {
        problem(`${field}: ${JSON.stringify(pattern)} is not a valid glob (${String(err)})`);
      }
    }
    return tests.length === 0 ? undefined : anyOf(tests);
  };
  const images = compileAll('images', policy.images);
  const namespaces = compileAll('namespaces', policy.namespaces);
  // An invalid pattern must not widen the scope to everything: a selector whose every
  // pattern of a field is invalid selects nothing.
  if (
    (policy.images.length > 0 && images === undefined) ||
    (policy.namespaces.length > 0 && namespaces === undefined)
  ) {
    return undefined;
  }
  const labels = Object.entries(policy.pod_labels);
  const selects = images !== undefined || namespaces !== undefined || labels.length > 0;
  return (event) => {
    if (tenant !== '' && event.tenant_id !== tenant) return false;
    if (!selects) return true;
    const workload = event.workload;
    if (!workload) return false;
    if (images !== undefined && !images(workload.image_repository)) return false;
    if (namespaces !== undefined && !namespaces(workload.namespace)) return false;
    for (const [key, value] of labels) {
      // Own properties only: a label named `constructor` is not found on a prototype.
      if (!Object.hasOwn(workload.pod_labels, key) || workload.pod_labels[key] !== value) {
        return false;
      }
    }
    return true;
  };
}

/**
 * A process list: entries with a `/` are executable paths (or globs) compared with the
 * process's `exe`; others are names compared with its `name` and with the basename of `exe`.
 */
function compileProcessList(
  field: string,
  entries: readonly string[],
  problem: (message: string) => void,
): ((process: Process__Output) => boolean) | undefined {
  const exeTests: StringTest[] = [];
  const nameTests: StringTest[] = [];
  for (const entry of entries) {
    if (entry === '') {
      problem(`${field}: an empty entry is ignored`);
      continue;
    }
    try {
      (entry.includes('/') ? exeTests : nameTests).push(compileGlob(entry));
    } catch (err) {
      problem(`${field}: ${JSON.stringify(entry)} is not a valid glob (${String(err)})`);
    }
  }
  if (exeTests.length === 0 && nameTests.length === 0) return undefined;
  const exeMatches = exeTests.length === 0 ? undefined : anyOf(exeTests);
  const nameMatches = nameTests.length === 0 ? undefined : anyOf(nameTests);
  return (process) => {
    const { exe, name } = process;
    if (exeMatches !== undefined && exe !== '' && exeMatches(exe)) return true;
    if (nameMatches === undefined) return false;
    if (name !== '' && nameMatches(name)) return true;
    const base = basename(exe);
    return base !== '' && base !== name && nameMatches(base);
  };
}

function execProcess(event: Event__Output): Process__Output | undefined {
  return event.payload === 'process_exec' ? (event.process_exec?.process ?? undefined) : undefined;
}

/** The paths a file event changes (absolute, against the process's cwd), or none. */
function changedPaths(event: Event__Output): string[] {
  const cwd = processOfEvent(event)?.cwd ?? '';
  const abs = (path: string): string => resolvePath(path, cwd);
  switch (event.payload) {
    case 'file_write':
      return event.file_write && event.file_write.path !== '' ? [abs(event.file_write.path)] : [];
    case 'file_open': {
      const open = event.file_open;
      if (!open || open.path === '') return [];
      const writes =
        open.write || (open.flags & O_ACCMODE) !== 0 || (open.flags & (O_CREAT | O_TRUNC)) !== 0;
      return writes ? [abs(open.path)] : [];
    }
    case 'file_rename': {
      const r = event.file_rename;
      return r ? [r.old_path, r.new_path].filter((p) => p !== '').map(abs) : [];
    }
    case 'file_delete':
      return event.file_delete && event.file_delete.path !== ''
        ? [abs(event.file_delete.path)]
        : [];
    case 'file_link': {
      // A second name for a protected file is a way to write it; a name placed among
      // protected files is a change there.
      const l = event.file_link;
      return l ? [l.target, l.link_path].filter((p) => p !== '').map(abs) : [];
    }
    case 'file_symlink': {
      const s = event.file_symlink;
      if (!s) return [];
      const out: string[] = [];
      if (s.link_path !== '') out.push(abs(s.link_path));
      // A relative target is relative to the link's directory; only absolute targets are
      // judged (a relative one resolved against the wrong directory would be a guess).
      if (s.target.startsWith('/')) out.push(resolvePath(s.target, '/'));
      return out;
    }
    default:
      return [];
  }
}

function remoteOf(event: Event__Output): Connection__Output | undefined {
  return event.payload === 'network_connect'
    ? (event.network_connect?.connection ?? undefined)
    : undefined;
}

interface Destination {
  network: Network;
  port: number;
  protocol: string;
}

function compileDestinations(
  policy: Policy__Output,
  problem: (message: string) => void,
): Destination[] {
  const out: Destination[] = [];
  for (const [i, d] of policy.allowed_destinations.entries()) {
    const network = parseCidr(d.cidr.trim());
    if (network === undefined) {
      problem(
        `allowed_destinations[${i}].cidr: ${JSON.stringify(d.cidr)} is not an address or network`,
      );
      continue;
    }
    if (!Number.isInteger(d.port) || d.port < 0 || d.port > 65_535) {
      problem(`allowed_destinations[${i}].port: ${d.port} is not a port`);
      continue;
    }
    out.push({ network, port: d.port, protocol: d.protocol });
  }
  return out;
}

interface PartSpec {
  part: PolicyPart | `rule:${string}`;
  name: string;
  kinds: readonly EventKind[];
  matches: Predicate;
  what: string;
  details: (event: Event__Output) => Record<string, string>;
}

function processDetails(event: Event__Output): Record<string, string> {
  const p = processOfEvent(event);
  return p ? { 'proc.name': p.name, 'proc.exepath': p.exe, 'proc.pid': String(p.pid) } : {};
}

function workloadDetails(event: Event__Output): Record<string, string> {
  const w = event.workload;
  if (!w) return {};
  return {
    'container.id': w.container_id,
    'container.image.repository': w.image_repository,
    'k8s.ns.name': w.namespace,
    'k8s.pod.name': w.pod_name,
  };
}

function makeRule(
  policy: Policy__Output,
  scope: Predicate,
  action: RuleAction,
  spec: PartSpec,
): CompiledRule {
  const label = policy.name === '' ? policy.id : policy.name;
  const inner = spec.matches;
  const details = (event: Event__Output): Record<string, string> => ({
    'policy.id': policy.id,
    'policy.name': policy.name,
    'policy.action': action,
    ...processDetails(event),
    ...workloadDetails(event),
    ...spec.details(event),
  });
  return Object.freeze({
    id: `policy:${policy.id}:${spec.part}`,
    name: `${label}: ${spec.name}`,
    source: 'policy',
    priority: PART_PRIORITY,
    severity: PART_SEVERITY,
    tags: Object.freeze(['mamori.policy']),
    kinds: Object.freeze([...spec.kinds]),
    file: policyFile(policy),
    action,
    matches: (event: Event__Output) => scope(event) && inner(event),
    render(event: Event__Output) {
      const d = details(event);
      const context = Object.entries(d)
        .filter(([key, value]) => value !== '' && !key.startsWith('policy.'))
        .map(([key, value]) => `${key}=${value}`)
        .join(' ');
      return `${spec.what} (policy ${label}, ${action}) ${context}`.trimEnd();
    },
    details,
  } satisfies CompiledRule);
}

/** Scopes a rule of a policy's Falco text like the policy's own parts. */
function scopeFalcoRule(
  policy: Policy__Output,
  scope: Predicate,
  action: RuleAction,
  rule: CompiledRule,
): CompiledRule {
  const name = rule.id.startsWith('falco:') ? rule.id.slice('falco:'.length) : rule.name;
  return Object.freeze({
    id: `policy:${policy.id}:rule:${name}`,
    name: rule.name,
    source: 'policy',
    priority: rule.priority,
    severity: rule.severity,
    tags: rule.tags,
    kinds: rule.kinds,
    file: policyFile(policy),
    ...(rule.line === undefined ? {} : { line: rule.line }),
    action,
    matches: (event: Event__Output) => scope(event) && rule.matches(event),
    // The rule's own per-kind function, still behind the policy's scope.
    matcherFor(kind: EventKind) {
      const direct = rule.matcherFor?.(kind);
      return direct === undefined
        ? undefined
        : (event: Event__Output) => scope(event) && direct(event);
    },
    render: (event: Event__Output) => rule.render(event),
    details: (event: Event__Output) => ({
      'policy.id': policy.id,
      'policy.name': policy.name,
      'policy.action': action,
      ...rule.details(event),
    }),
  } satisfies CompiledRule);
}

/**
 * Compiles runtime policies into rules: per policy, one rule per non-empty part
 * (`policy:<id>:denied-processes`, `…:allowed-processes`, `…:protected-paths`,
 * `…:allowed-destinations`) and one per rule of its Falco text (`policy:<id>:rule:<name>`),
 * each matching only events of the policy's tenant and selector, with `source: 'policy'` and
 * the policy's mode as `action`. Deleted policies (tombstones) compile to nothing.
 *
 * Never throws on policy content: an invalid entry (a glob, an address) is left out of its
 * part and reported in `problems` (file `policy:<tenant>/<id>`); Falco text is loaded as
 * `loadFalcoRules` does, its problems and skipped rules reported under the same file. A
 * policy without an id, or a second policy with the same tenant and id, is a problem and
 * compiles to nothing.
 */
export function compilePolicies(policies: readonly Policy__Output[]): RuleSet {
  const rules: CompiledRule[] = [];
  const problems: RuleProblem[] = [];
  const skipped: SkippedRule[] = [];
  const seen = new Set<string>();
  for (const policy of policies) {
    if (policy.deleted) continue;
    const file = policyFile(policy);
    const problem = (message: string): void => {
      problems.push({ file, line: 0, message });
    };
    if (policy.id === '') {
      problem('the policy has no id');
      continue;
    }
    const key = `${policy.tenant_id}/${policy.id}`;
    if (seen.has(key)) {
      problem(`policy ${policy.id} appears more than once; the first one is used`);
      continue;
    }
    seen.add(key);
    const scope = compileScope(policy, problem);
    if (scope === undefined) {
      problem('no valid pattern in a selector field: the policy selects nothing');
      continue;
    }
    const action = actionOfPolicyMode(policy.mode);
    const add = (spec: PartSpec): void => {
      rules.push(makeRule(policy, scope, action, spec));
    };

    const denied = compileProcessList('denied_processes', policy.denied_processes, problem);
    if (denied) {
      add({
        part: 'denied-processes',
        name: 'denied process started',
        what: 'Denied process started',
        kinds: ['process_exec'],
        matches: (event) => {
          const p = execProcess(event);
          return p !== undefined && denied(p);
        },
        details: () => ({}),
      });
    }

    const allowed = compileProcessList('allowed_processes', policy.allowed_processes, problem);
    if (allowed) {
      add({
        part: 'allowed-processes',
        name: 'process outside the allow list started',
        what: 'Process outside the allow list started',
        kinds: ['process_exec'],
        matches: (event) => {
          const p = execProcess(event);
          // A process the sensor could not name cannot be judged against names.
          return p !== undefined && (p.name !== '' || p.exe !== '') && !allowed(p);
        },
        details: () => ({}),
      });
    }

    const protectedPrefixes = policy.protected_paths.filter((path) => {
      if (path.startsWith('/')) return true;
      problem(`protected_paths: ${JSON.stringify(path)} is not an absolute path; ignored`);
      return false;
    });
    if (protectedPrefixes.length > 0) {
      let underProtected: StringTest | undefined;
      try {
        underProtected = compilePathPrefixes(protectedPrefixes);
      } catch (err) {
        problem(`protected_paths: not valid (${String(err)}); the part is not enforced`);
      }
      if (underProtected) {
        const test = underProtected;
        add({
          part: 'protected-paths',
          name: 'change under a protected path',
          what: 'Change under a protected path',
          kinds: FILE_CHANGE_KINDS,
          matches: (event) => changedPaths(event).some(test),
          details: (event) => ({ 'fd.name': changedPaths(event).find(test) ?? '' }),
        });
      }
    }

    if (policy.allowed_destinations.length > 0) {
      const destinations = compileDestinations(policy, problem);
      add({
        part: 'allowed-destinations',
        name: 'connection outside the allowed destinations',
        what: 'Connection outside the allowed destinations',
        kinds: ['network_connect'],
        matches: (event) => {
          const c = remoteOf(event);
          if (!c) return false;
          const ip = parseIp(c.remote_address);
          // An address the sensor did not give cannot be judged.
          if (ip === undefined) return false;
          for (const d of destinations) {
            if (
              d.network.contains(ip) &&
              (d.port === 0 || d.port === c.remote_port) &&
              (d.protocol === 'L4_PROTOCOL_UNSPECIFIED' || d.protocol === c.protocol)
            ) {
              return false;
            }
          }
          return true;
        },
        details: (event): Record<string, string> => {
          const c = remoteOf(event);
          return c ? { 'fd.rip': c.remote_address, 'fd.rport': String(c.remote_port) } : {};
        },
      });
    }

    if (policy.rules.trim() !== '') {
      const loaded = loadFalcoRules([{ path: file, text: policy.rules }]);
      problems.push(...loaded.problems);
      skipped.push(...loaded.skipped);
      for (const rule of loaded.rules) rules.push(scopeFalcoRule(policy, scope, action, rule));
    }
  }
  return { rules, skipped, problems };
}
