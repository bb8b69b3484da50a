import { ErrorCode, MamoriError } from '@mamori/common';
import { formatListen } from '../config.js';
import type { Sensor, SensorContext, SensorStatus } from '../sensors/sensor.js';
import type { WaasEngine } from './engine.js';
import { priorityOfHttpEvent } from './event.js';
import { createWaasProxy, type WaasProxy, type WaasProxyStats } from './proxy.js';

/** Options of {@link createWaasProxySensor}. */
export interface WaasProxySensorOptions {
  proxies: readonly { listen: { host: string; port: number }; upstream: URL }[];
  /** The agent's engine: the web application policies pushed to the agent apply. */
  engine: WaasEngine;
}

export interface WaasProxySensor extends Sensor {
  /** Each proxy's bound address and counters, in the order configured. */
  proxies(): { listen: string; upstream: string; stats: WaasProxyStats }[];
}

/**
 * The inline WAAS proxies as a sensor of the agent (`waas`): their http_request events go to
 * the pipeline. Starting fails (MamoriError Unavailable) when a proxy cannot listen; the ones
 * already listening are stopped again.
 */
export function createWaasProxySensor(options: WaasProxySensorOptions): WaasProxySensor {
  let running: { proxy: WaasProxy; listen: string; upstream: string }[] = [];

  return {
    name: 'waas',
    async start(context: SensorContext): Promise<SensorStatus> {
      const started: typeof running = [];
      for (const { listen, upstream } of options.proxies) {
        const proxy = createWaasProxy({
          listen,
          upstream,
          engine: options.engine,
          logger: context.logger,
          emit: (event) => {
            context.emit(event, priorityOfHttpEvent(event));
          },
        });
        try {
          const bound = await proxy.start();
          started.push({
            proxy,
            listen: formatListen(bound),
            upstream: upstream.href,
          });
        } catch (err) {
          await Promise.all(started.map((s) => s.proxy.stop()));
          throw new MamoriError(
            ErrorCode.Config,
            `waas proxy cannot listen on ${listen.host}:${listen.port} (${err instanceof Error ? err.message : String(err)})`,
            { cause: err },
          );
        }
      }
      running = started;
      return {
        sensor: 'waas',
        mode: running.map((r) => `${r.listen} → ${r.upstream}`).join(', '),
        limitations: ['plain HTTP/1.1 towards clients: terminate TLS in front of the proxy'],
      };
    },
    async stop() {
      const stopping = running;
      running = [];
      await Promise.all(stopping.map((r) => r.proxy.stop()));
    },
    proxies: () =>
      running.map((r) => ({ listen: r.listen, upstream: r.upstream, stats: r.proxy.stats() })),
  };
}
