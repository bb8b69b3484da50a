import { execFile } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import type { Logger } from '@mamori/common';
import {
  createEventCodec,
  type Event,
  type Event__Output,
  type Policy__Output,
  type Process__Output,
} from '@mamori/proto';
import {
  compilePolicies,
  createRuleEngine,
  type CompiledRule,
  type EventKind,
} from '@mamori/rules';

/** What acting on a process or container needs of the node; replaced in unit tests. */
export interface NodeActions {
  /**
   * Kills `pid` with SIGKILL if it is still the process that started at `startUnixMicros`
   * (0: unknown, the pid is trusted); resolves with why not when it did not.
   */
  kill(pid: number, startUnixMicros: number): Promise<{ ok: true } | { ok: false; error: string }>;
  /** Stops a container through its runtime's CLI; resolves with the CLI used, or why not. */
  stopContainer(
    containerId: string,
    runtime: string,
  ): Promise<{ ok: true; cli: string } | { ok: false; error: string; cli: string }>;
}

export interface EnforcerOptions {
  logger: Logger;
  actions: NodeActions;
  /** An enforcement happened (or failed): the event reporting it, to be sent like any other. */
  report(event: Event): void;
}

/** Local enforcement of a tenant's policies in prevent and block mode. */
export interface Enforcer {
  /** Replaces the policy set (as pushed by ingest, for `tenant`). */
  setPolicies(tenant: string, policies: readonly Policy__Output[]): void;
  /**
   * Looks at an event the sensors just saw; when a prevent or block rule of the policies
   * matches, acts on it at once (asynchronously) and reports it. Cheap for events of kinds no
   * such rule looks at.
   */
  inspect(event: Event, observedAt?: number): void;
  /** Rules of prevent and block mode in force. */
  readonly rules: number;
}

const codec = createEventCodec();

/**
 * Creates the enforcer. Decisions are local: the pushed policies are compiled with the same
 * `compilePolicies` the detector runs, and only rules whose mode asks for an action are kept
 * (detect-mode rules are the detector's to alert on). A process is killed once, however many
 * rules match it or events of it arrive.
 */
export function createEnforcer(options: EnforcerOptions): Enforcer {
  const { logger, actions } = options;
  let tenant = '';
  const engine = createRuleEngine([]);
  let enforcing: readonly CompiledRule[] = [];
  /** Processes (pid/start) and containers acted on lately, so one offence is one action. */
  const done = new Map<string, number>();
  // How long an action is remembered, in ms: longer than a process's events keep arriving.
  const REMEMBER_MS = 60_000;

  function once(key: string): boolean {
    const now = Date.now();
    if (done.size > 10_000) {
      for (const [k, at] of done) if (now - at > REMEMBER_MS) done.delete(k);
    }
    const at = done.get(key);
    if (at !== undefined && now - at < REMEMBER_MS) return false;
    done.set(key, now);
    return true;
  }

  function processOf(event: Event__Output): Process__Output | undefined {
    const kind = event.payload;
    if (kind === undefined) return undefined;
    const payload = (
      event as unknown as Record<string, { process?: Process__Output | null } | undefined>
    )[kind];
    return payload?.process ?? undefined;
  }

  async function act(rule: CompiledRule, event: Event__Output, observedAt: number): Promise<void> {
    const process = processOf(event);
    const policyId = rule.id.split(':')[1] ?? '';
    const base = {
      policy_id: policyId,
      rule_id: rule.id,
      event_id: event.id,
      ...(process ? { process } : {}),
    };
    if (rule.action === 'prevent') {
      if (!process || process.pid <= 0) return;
      if (!once(`p:${process.pid}:${process.start_unix_micros}`)) return;
      const result = await actions.kill(process.pid, process.start_unix_micros);
      const latency = Math.round((performance.now() - observedAt) * 1000);
      options.report({
        observed_unix_micros: Date.now() * 1000,
        ...(event.workload ? { workload: event.workload } : {}),
        enforcement: {
          ...base,
          action: 'kill_process',
          ok: result.ok,
          error: result.ok ? '' : result.error,
          latency_micros: latency,
        },
      });
      logger.info(
        { rule: rule.id, pid: process.pid, ok: result.ok, latencyMicros: latency },
        'policy enforced: process killed',
      );
      return;
    }
    const container = event.workload?.container_id ?? '';
    if (container === '') {
      if (!once(`c:host:${process?.pid ?? 0}`)) return;
      options.report({
        observed_unix_micros: Date.now() * 1000,
        enforcement: {
          ...base,
          action: 'stop_container',
          ok: false,
          error: 'the process runs on the host, in no container: nothing to stop',
        },
      });
      return;
    }
    if (!once(`c:${container}`)) return;
    const runtime = event.workload?.runtime ?? '';
    const result = await actions.stopContainer(container, runtime);
    options.report({
      observed_unix_micros: Date.now() * 1000,
      workload: event.workload!,
      enforcement: {
        ...base,
        action: 'stop_container',
        ok: result.ok,
        error: result.ok ? '' : result.error,
        latency_micros: Math.round((performance.now() - observedAt) * 1000),
        container_id: container,
        runtime: result.cli,
      },
    });
    logger.info({ rule: rule.id, container, ok: result.ok }, 'policy enforced: container stop');
  }

  return {
    setPolicies(next, policies) {
      tenant = next;
      const compiled = compilePolicies(policies.map((p) => ({ ...p, tenant_id: next })));
      enforcing = compiled.rules.filter((r) => r.action === 'prevent' || r.action === 'block');
      engine.reload(enforcing);
      for (const problem of compiled.problems) {
        logger.warn({ at: problem.file, problem: problem.message }, 'policy problem');
      }
      logger.info(
        { tenant, policies: policies.length, enforcing: enforcing.length },
        'policies in force',
      );
    },
    inspect(event, observedAt = performance.now()) {
      if (enforcing.length === 0) return;
      const kind = Object.keys(event).find((k) => engine.rulesFor(k as EventKind).length > 0);
      if (kind === undefined) return;
      // The rules read decoded events (every field present): this one round trip is the cost
      // of an event a rule of these kinds looks at, not of every event.
      const decoded = codec.decode(codec.encode({ ...event, tenant_id: tenant }));
      const matched = engine.evaluate(decoded);
      for (const rule of matched) {
        act(rule, decoded, observedAt).catch((err: unknown) =>
          logger.error({ rule: rule.id, err }, 'enforcement failed'),
        );
      }
    },
    get rules() {
      return enforcing.length;
    },
  };
}

/** Runtime CLIs by the runtime a container's cgroup names, in the order tried. */
const RUNTIME_CLIS: Readonly<Record<string, readonly string[]>> = {
  docker: ['docker'],
  containerd: ['crictl', 'nerdctl', 'ctr'],
  'cri-o': ['crictl'],
  podman: ['podman'],
};

function run(file: string, args: readonly string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: 30_000 }, (err, _stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      resolve({ code, stderr: String(stderr).trim() || (err?.message ?? '') });
    });
  });
}

/**
 * The node's own actions: SIGKILL after checking the pid still is the process that matched
 * (its start time), and a container stopped with the first runtime CLI that is installed.
 */
export function createNodeActions(
  startTimeOf: (pid: number) => Promise<number | undefined>,
): NodeActions {
  return {
    async kill(pid, startUnixMicros) {
      if (startUnixMicros > 0) {
        const now = await startTimeOf(pid);
        if (now === undefined) return { ok: false, error: 'the process had already exited' };
        // Start times are whole clock ticks (10 ms): equal within a tick is the same process.
        if (Math.abs(now - startUnixMicros) > 10_000) {
          return { ok: false, error: 'the pid now belongs to another process; nothing killed' };
        }
      }
      try {
        process.kill(pid, 'SIGKILL');
        return { ok: true };
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ESRCH') return { ok: false, error: 'the process had already exited' };
        if (code === 'EPERM') return { ok: false, error: 'not permitted to kill the process' };
        return { ok: false, error: err instanceof Error ? err.message : String(err) };
      }
    },
    async stopContainer(containerId, runtime) {
      const clis = RUNTIME_CLIS[runtime] ?? ['docker', 'crictl', 'podman', 'nerdctl'];
      const tried: string[] = [];
      for (const cli of clis) {
        const args =
          cli === 'ctr' ? ['task', 'kill', '-s', 'SIGKILL', containerId] : ['stop', containerId];
        const result = await run(cli, args);
        if (result.code === 0) return { ok: true, cli };
        tried.push(`${cli}: ${result.stderr.slice(0, 200) || `exit ${result.code}`}`);
      }
      return {
        ok: false,
        cli: '',
        error: `could not stop container ${containerId} (runtime ${runtime || 'unknown'}): ${tried.join('; ')}`,
      };
    },
  };
}
