import {
  protoType,
  type Event,
  type Policy,
  type Policy__Output,
  type Process,
} from '@mamori/proto';
import { describe, expect, it } from 'vitest';
import { createRuleEngine } from '../src/engine.js';
import { compilePolicies } from '../src/policy.js';
import { buildEvent } from './support/events.js';

const policyType = protoType('mamori.v1.Policy');

/** A policy as a reader of the policies topic sees it: encoded and decoded, every default set. */
function policy(partial: Policy): Policy__Output {
  const bytes = policyType
    .encode(policyType.fromObject({ tenant_id: 'city-a', ...partial }))
    .finish();
  return policyType.toObject(policyType.decode(bytes), {
    longs: Number,
    enums: String,
    defaults: true,
  }) as Policy__Output;
}

const PORTAL: Event['workload'] = {
  container_id: '3f2a9c1b7d4e',
  pod_name: 'portal-7d9f',
  namespace: 'citizens',
  image_repository: 'registry.example.gov/city/portal',
  image_tag: '2.4.1',
  pod_labels: { app: 'portal', tier: 'web' },
};

function proc(exe: string, extra: Partial<Process> = {}): Process {
  return {
    pid: 4242,
    name: exe.slice(exe.lastIndexOf('/') + 1).slice(0, 15),
    exe,
    args: [exe],
    cwd: '/srv/app/',
    ...extra,
  };
}

function exec(exe: string, extra: { process?: Partial<Process>; event?: Partial<Event> } = {}) {
  return buildEvent({
    workload: PORTAL,
    process_exec: { process: proc(exe, extra.process) },
    ...extra.event,
  });
}

function fileEvent(payload: Partial<Event>, workload: Event['workload'] = PORTAL) {
  return buildEvent({ workload, ...payload });
}

function connect(
  address: string,
  port: number,
  protocol: 'L4_PROTOCOL_TCP' | 'L4_PROTOCOL_UDP' = 'L4_PROTOCOL_TCP',
) {
  return buildEvent({
    workload: PORTAL,
    network_connect: {
      process: proc('/usr/bin/curl'),
      connection: {
        protocol,
        local_address: '10.42.0.17',
        local_port: 51234,
        remote_address: address,
        remote_port: port,
      },
    },
  });
}

/** The ids of the rules of `policies` that fire on `event`. */
function fired(policies: Policy__Output[], event: ReturnType<typeof buildEvent>): string[] {
  const set = compilePolicies(policies);
  return createRuleEngine(set)
    .evaluate(event)
    .map((r) => r.id);
}

describe('compilePolicies: process lists', () => {
  const denied = policy({
    id: 'no-shells',
    mode: 'POLICY_MODE_PREVENT',
    denied_processes: ['nc', '/usr/bin/python3*'],
  });

  it('fires on an exec whose name or executable is denied, carrying the policy mode', () => {
    const set = compilePolicies([denied]);
    expect(set.problems).toEqual([]);
    const [rule] = set.rules;
    expect(rule).toMatchObject({
      id: 'policy:no-shells:denied-processes',
      source: 'policy',
      action: 'prevent',
      kinds: ['process_exec'],
    });
    expect(fired([denied], exec('/bin/nc'))).toEqual(['policy:no-shells:denied-processes']);
    expect(fired([denied], exec('/usr/bin/python3.12'))).toEqual([
      'policy:no-shells:denied-processes',
    ]);
    // The name from comm is truncated; the basename of the path still names the program.
    expect(fired([denied], exec('/opt/x/nc', { process: { name: 'renamed' } }))).toHaveLength(1);
    expect(rule!.details(exec('/bin/nc'))).toMatchObject({
      'policy.id': 'no-shells',
      'proc.exepath': '/bin/nc',
      'k8s.ns.name': 'citizens',
    });
  });

  it('does not fire on a near miss: another name, a path elsewhere, or another kind of event', () => {
    expect(fired([denied], exec('/bin/ncat'))).toEqual([]);
    expect(fired([denied], exec('/usr/local/bin/python3'))).toEqual([]);
    expect(
      fired([denied], fileEvent({ file_write: { process: proc('/bin/nc'), path: '/tmp/x' } })),
    ).toEqual([]);
  });

  it('fires the allow list on an exec that no entry allows, and not on one that is allowed', () => {
    const allow = policy({
      id: 'portal-only',
      allowed_processes: ['node', '/usr/local/bin/*'],
    });
    expect(fired([allow], exec('/usr/bin/node'))).toEqual([]);
    expect(fired([allow], exec('/usr/local/bin/healthcheck'))).toEqual([]);
    expect(fired([allow], exec('/bin/sh'))).toEqual(['policy:portal-only:allowed-processes']);
    expect(compilePolicies([allow]).rules[0]!.action).toBe('alert');
    // A node binary elsewhere is allowed by name; a lookalike name is not.
    expect(fired([allow], exec('/usr/bin/nodejs'))).toEqual([
      'policy:portal-only:allowed-processes',
    ]);
  });
});

describe('compilePolicies: protected paths', () => {
  const guard = policy({
    id: 'etc',
    mode: 'POLICY_MODE_BLOCK',
    protected_paths: ['/etc/ssl', '/srv/app/*.conf'],
  });
  const by = proc('/usr/bin/python3');

  it('fires on writes, renames, deletes and links under a protected path', () => {
    const id = 'policy:etc:protected-paths';
    for (const event of [
      fileEvent({ file_write: { process: by, path: '/etc/ssl/certs/ca.pem' } }),
      fileEvent({ file_open: { process: by, path: '/etc/ssl/openssl.cnf', flags: 0o1101 } }),
      fileEvent({ file_open: { process: by, path: '/etc/ssl/openssl.cnf', write: true } }),
      fileEvent({ file_rename: { process: by, old_path: '/tmp/x', new_path: '/etc/ssl/x' } }),
      fileEvent({ file_rename: { process: by, old_path: '/etc/ssl/x', new_path: '/tmp/x' } }),
      fileEvent({ file_delete: { process: by, path: '/etc/ssl' } }),
      fileEvent({ file_link: { process: by, target: '/etc/ssl/key', link_path: '/tmp/k' } }),
      fileEvent({ file_symlink: { process: by, target: '/tmp/evil', link_path: '/etc/ssl/a' } }),
      // Relative to the process's working directory, /srv/app/.
      fileEvent({ file_write: { process: by, path: 'db.conf' } }),
      fileEvent({ file_write: { process: by, path: '../app/./db.conf' } }),
    ]) {
      expect(fired([guard], event), JSON.stringify(event.payload)).toEqual([id]);
    }
    expect(compilePolicies([guard]).rules[0]!.action).toBe('block');
  });

  it('does not fire on reads, on neighbours of a protected path, or on non-matching globs', () => {
    for (const event of [
      fileEvent({ file_open: { process: by, path: '/etc/ssl/openssl.cnf', flags: 0 } }),
      fileEvent({ file_write: { process: by, path: '/etc/ssl2/x' } }),
      fileEvent({ file_write: { process: by, path: '/etc/sslx' } }),
      fileEvent({ file_write: { process: by, path: '/srv/app/db.json' } }),
      fileEvent({ file_write: { process: by, path: '/srv/app/sub/db.conf' } }),
      fileEvent({ file_rename: { process: by, old_path: '/tmp/a', new_path: '/tmp/b' } }),
      fileEvent({ file_symlink: { process: by, target: '../etc/ssl', link_path: '/tmp/l' } }),
    ]) {
      expect(fired([guard], event), JSON.stringify(event.payload)).toEqual([]);
    }
  });
});

describe('compilePolicies: allowed destinations', () => {
  const egress = policy({
    id: 'egress',
    allowed_destinations: [
      { cidr: '10.0.0.0/8' },
      { cidr: '203.0.113.7', port: 443, protocol: 'L4_PROTOCOL_TCP' },
      { cidr: 'fd00::/8', port: 53 },
    ],
  });

  it('fires on a connection to anything the list does not allow', () => {
    const id = 'policy:egress:allowed-destinations';
    expect(fired([egress], connect('198.51.100.1', 443))).toEqual([id]);
    expect(fired([egress], connect('203.0.113.7', 80))).toEqual([id]);
    expect(fired([egress], connect('203.0.113.7', 443, 'L4_PROTOCOL_UDP'))).toEqual([id]);
    expect(fired([egress], connect('fe80::1', 53))).toEqual([id]);
    expect(fired([egress], connect('fd12::1', 54))).toEqual([id]);
  });

  it('does not fire on allowed networks and ports, IPv4-mapped addresses included', () => {
    expect(fired([egress], connect('10.1.2.3', 5432))).toEqual([]);
    expect(fired([egress], connect('::ffff:10.9.9.9', 80))).toEqual([]);
    expect(fired([egress], connect('203.0.113.7', 443))).toEqual([]);
    expect(fired([egress], connect('fd12::1', 53))).toEqual([]);
  });

  it('reports a destination that is no network and keeps the others', () => {
    const set = compilePolicies([
      policy({
        id: 'bad',
        allowed_destinations: [{ cidr: '10.0.0.0/33' }, { cidr: '10.0.0.0/8' }],
      }),
    ]);
    expect(set.problems).toEqual([
      expect.objectContaining({
        file: 'policy:city-a/bad',
        message: expect.stringContaining('33'),
      }),
    ]);
    expect(
      fired(
        [policy({ id: 'bad', allowed_destinations: [{ cidr: '10.0.0.0/8' }] })],
        connect('10.0.0.1', 1),
      ),
    ).toEqual([]);
  });
});

describe('compilePolicies: selector and tenant', () => {
  const scoped = (selector: Partial<Policy>) =>
    policy({ id: 'scoped', denied_processes: ['nc'], ...selector });
  const nc = (workload: Event['workload'], tenant = 'city-a') =>
    buildEvent({ tenant_id: tenant, workload, process_exec: { process: proc('/bin/nc') } });

  it('scopes by image repository glob', () => {
    const p = scoped({ images: ['registry.example.gov/city/*'] });
    expect(fired([p], nc(PORTAL))).toHaveLength(1);
    expect(fired([p], nc({ ...PORTAL, image_repository: 'docker.io/library/nginx' }))).toEqual([]);
  });

  it('scopes by namespace', () => {
    const p = scoped({ namespaces: ['citizens', 'staff-*'] });
    expect(fired([p], nc(PORTAL))).toHaveLength(1);
    expect(fired([p], nc({ ...PORTAL, namespace: 'staff-hr' }))).toHaveLength(1);
    expect(fired([p], nc({ ...PORTAL, namespace: 'kube-system' }))).toEqual([]);
  });

  it('scopes by pod labels, every one of which must be equal', () => {
    const p = scoped({ pod_labels: { app: 'portal', tier: 'web' } });
    expect(fired([p], nc(PORTAL))).toHaveLength(1);
    expect(fired([p], nc({ ...PORTAL, pod_labels: { app: 'portal', tier: 'db' } }))).toEqual([]);
    expect(fired([p], nc({ ...PORTAL, pod_labels: { app: 'portal' } }))).toEqual([]);
    const proto = scoped({ pod_labels: { constructor: '' } });
    expect(fired([proto], nc({ ...PORTAL, pod_labels: {} }))).toEqual([]);
  });

  it('never matches host-level events when it has a selector, and matches them when it has none', () => {
    expect(fired([scoped({ namespaces: ['citizens'] })], nc(null))).toEqual([]);
    expect(fired([scoped({})], nc(null))).toHaveLength(1);
  });

  it("never fires on another tenant's events", () => {
    expect(fired([scoped({})], nc(PORTAL, 'city-b'))).toEqual([]);
  });
});

describe('compilePolicies: hostile values', () => {
  it('matches list values literally: quotes, parentheses and commas cannot change a rule', () => {
    const hostile = policy({
      id: 'hostile',
      denied_processes: ['x) or (proc.name exists', 'a, b', 'it\'s"q'],
      protected_paths: ['/data/a) or (fd.name startswith /'],
      namespaces: ['citizens") or (k8s.ns.name exists'],
    });
    const set = compilePolicies([hostile]);
    expect(set.problems).toEqual([]);
    const inNs = (ns: string, exe: string, name?: string) =>
      buildEvent({
        workload: { ...PORTAL, namespace: ns },
        process_exec: { process: proc(exe, name === undefined ? {} : { name }) },
      });
    const ns = 'citizens") or (k8s.ns.name exists';
    // Nothing broadened: ordinary processes and namespaces do not fire.
    expect(fired([hostile], inNs(ns, '/bin/sh'))).toEqual([]);
    expect(fired([hostile], inNs('citizens', '/bin/nc', 'x) or (proc.name exists'))).toEqual([]);
    expect(fired([hostile], inNs(ns, '/bin/a'))).toEqual([]);
    expect(fired([hostile], inNs(ns, '/bin/b'))).toEqual([]);
    // The values themselves match, literally.
    expect(fired([hostile], inNs(ns, '/bin/x', 'x) or (proc.name exists'))).toHaveLength(1);
    expect(fired([hostile], inNs(ns, '/bin/x', 'a, b'))).toHaveLength(1);
    expect(fired([hostile], inNs(ns, '/bin/x', 'it\'s"q'))).toHaveLength(1);
    const write = (path: string) =>
      buildEvent({
        workload: { ...PORTAL, namespace: ns },
        file_write: { process: proc('/bin/sh'), path },
      });
    expect(fired([hostile], write('/etc/passwd'))).toEqual([]);
    expect(fired([hostile], write('/data/a) or (fd.name startswith /'))).toHaveLength(1);
  });

  it('keeps a Falco rule of one policy from reaching past its selector or into another policy', () => {
    const text = [
      '- list: shells',
      '  items: [sh, bash]',
      '- rule: Shell in portal',
      '  desc: a shell',
      '  condition: evt.type = execve and proc.name in (shells)',
      '  output: shell %proc.name',
      '  priority: WARNING',
    ].join('\n');
    const a = policy({ id: 'a', rules: text, namespaces: ['citizens'], mode: 'POLICY_MODE_BLOCK' });
    const b = policy({ id: 'b', rules: '- rule: broken\n  condition: (\n', namespaces: ['other'] });
    const set = compilePolicies([a, b]);
    expect(set.rules.map((r) => [r.id, r.action, r.source])).toEqual([
      ['policy:a:rule:Shell in portal', 'block', 'policy'],
    ]);
    expect(set.problems.every((p) => p.file === 'policy:city-a/b')).toBe(true);
    expect(set.problems.length).toBeGreaterThan(0);
    expect(fired([a], exec('/bin/sh'))).toEqual(['policy:a:rule:Shell in portal']);
    const elsewhere = buildEvent({
      workload: { ...PORTAL, namespace: 'other' },
      process_exec: { process: proc('/bin/sh') },
    });
    expect(fired([a], elsewhere)).toEqual([]);
    expect(set.rules[0]!.render(exec('/bin/sh'))).toBe('shell sh');
  });
});

describe('compilePolicies: tombstones and ids', () => {
  it('compiles a deleted policy to nothing, and reports one without an id or seen twice', () => {
    const set = compilePolicies([
      policy({ id: 'gone', deleted: true, denied_processes: ['nc'] }),
      policy({ id: '', denied_processes: ['nc'] }),
      policy({ id: 'twice', denied_processes: ['nc'] }),
      policy({ id: 'twice', denied_processes: ['sh'] }),
    ]);
    expect(set.rules.map((r) => r.id)).toEqual(['policy:twice:denied-processes']);
    expect(set.problems).toHaveLength(2);
  });

  it('gives a policy with no parts no rules', () => {
    expect(compilePolicies([policy({ id: 'empty', namespaces: ['x'] })]).rules).toEqual([]);
  });
});
