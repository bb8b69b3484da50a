import { describe, expect, it, vi } from 'vitest';
import { createSilentLogger } from '@mamori/common';
import type { Event, Policy__Output } from '@mamori/proto';
import { createEnforcer, createNodeActions, type NodeActions } from '../../src/enforce/enforcer.js';

function policy(partial: Partial<Policy__Output>): Policy__Output {
  return {
    id: 'p',
    name: 'p',
    mode: 'POLICY_MODE_PREVENT',
    rules: '',
    namespaces: [],
    images: [],
    tenant_id: '',
    pod_labels: {},
    allowed_processes: [],
    denied_processes: [],
    protected_paths: [],
    allowed_destinations: [],
    updated_unix_micros: 0,
    deleted: false,
    web_application: null,
    ...partial,
  };
}

const exec = (name: string, pid: number, workload?: Event['workload']): Event => ({
  id: `e-${pid}`,
  ...(workload ? { workload } : {}),
  process_exec: {
    process: { pid, name, exe: `/usr/bin/${name}`, args: [name], start_unix_micros: 42 },
  },
});

function fakeActions(): NodeActions & { kills: number[]; stops: string[] } {
  const kills: number[] = [];
  const stops: string[] = [];
  return {
    kills,
    stops,
    kill: (pid) => {
      kills.push(pid);
      return Promise.resolve({ ok: true });
    },
    stopContainer: (id) => {
      stops.push(id);
      return Promise.resolve({ ok: true, cli: 'docker' });
    },
  };
}

describe('enforcer', () => {
  it('kills a denied process once however many events of it arrive, and leaves others alone', async () => {
    const actions = fakeActions();
    const report = vi.fn();
    const enforcer = createEnforcer({ logger: createSilentLogger(), actions, report });
    enforcer.setPolicies('city-a', [policy({ denied_processes: ['nc'] })]);
    enforcer.inspect(exec('nc', 10));
    enforcer.inspect(exec('nc', 10));
    enforcer.inspect(exec('ls', 11));
    await vi.waitFor(() => expect(report).toHaveBeenCalledTimes(1));
    expect(actions.kills).toEqual([10]);
    expect(report.mock.calls[0]![0]).toMatchObject({
      enforcement: { action: 'kill_process', ok: true, policy_id: 'p', event_id: 'e-10' },
    });
  });

  it('leaves detect-mode policies to the detector: nothing is done on the node', async () => {
    const actions = fakeActions();
    const report = vi.fn();
    const enforcer = createEnforcer({ logger: createSilentLogger(), actions, report });
    enforcer.setPolicies('city-a', [
      policy({ mode: 'POLICY_MODE_DETECT', denied_processes: ['nc'] }),
    ]);
    expect(enforcer.rules).toBe(0);
    enforcer.inspect(exec('nc', 10));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(actions.kills).toEqual([]);
    expect(report).not.toHaveBeenCalled();
  });

  it('reports that it could not stop a container when no runtime CLI is installed', async () => {
    const report = vi.fn();
    const enforcer = createEnforcer({
      logger: createSilentLogger(),
      // The real actions: this machine has no docker, crictl, podman or nerdctl on its PATH.
      actions: createNodeActions(() => Promise.resolve(undefined)),
      report,
    });
    enforcer.setPolicies('city-a', [
      policy({ mode: 'POLICY_MODE_BLOCK', denied_processes: ['nc'] }),
    ]);
    enforcer.inspect(exec('nc', 10, { container_id: 'c0ffee', runtime: 'docker' }));
    await vi.waitFor(() => expect(report).toHaveBeenCalledTimes(1), { timeout: 10_000 });
    expect(report.mock.calls[0]![0]).toMatchObject({
      enforcement: {
        action: 'stop_container',
        ok: false,
        container_id: 'c0ffee',
        error: expect.stringContaining('could not stop container c0ffee (runtime docker)'),
      },
    });
  });

  it('does not kill a pid that now belongs to another process', async () => {
    const actions = createNodeActions(() => Promise.resolve(99_999_999));
    expect(await actions.kill(1, 42)).toEqual({
      ok: false,
      error: 'the pid now belongs to another process; nothing killed',
    });
  });
});
