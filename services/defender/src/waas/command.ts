import { parseArgs } from 'node:util';
import type { Logger, Stoppable } from '@mamori/common';
import type { Paranoia } from '@mamori/waas';
import { createWaasProxy, type WaasProxy, type WaasProxyOptions } from './proxy.js';

export const WAAS_PROXY_USAGE = `Usage: mamori defender waas --listen HOST:PORT --upstream URL [options]

An inline reverse proxy that inspects each request (@mamori/waas) before the application
sees it; a blocked request is answered 403 with an event id.

Options:
  --listen HOST:PORT     where to listen (e.g. 127.0.0.1:8081; [::1]:8081)
  --upstream URL         the application (http:// or https://, e.g. http://127.0.0.1:3000)
  --paranoia N           1 to 4: more catches more and blocks more normal text (default 1)
  --body-limit BYTES     bytes of a body inspected; the rest is streamed on (default 131072)
  --sample-clean SHARE   share of clean requests logged as events, 0 to 1 (default 0.01)
`;

/** The proxy's options from `mamori defender waas`'s arguments, or every error in them. */
export function parseWaasProxyArgs(
  argv: readonly string[],
): Omit<WaasProxyOptions, 'emit' | 'logger'> | { errors: string[] } {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        listen: { type: 'string' },
        upstream: { type: 'string' },
        paranoia: { type: 'string', default: '1' },
        'body-limit': { type: 'string', default: '131072' },
        'sample-clean': { type: 'string', default: '0.01' },
      },
      strict: true,
    }));
  } catch (err) {
    return { errors: [err instanceof Error ? err.message : String(err)] };
  }
  const errors: string[] = [];
  const listen = /^\[?([^\]]*?)\]?:(\d+)$/.exec(values.listen ?? '');
  if (!listen || Number(listen[2]) > 65535) errors.push('--listen: expected HOST:PORT');
  let upstream: URL | undefined;
  try {
    upstream = new URL(values.upstream ?? '');
    if (upstream.protocol !== 'http:' && upstream.protocol !== 'https:') {
      errors.push('--upstream: expected an http:// or https:// URL');
    }
  } catch {
    errors.push('--upstream: expected a URL such as http://127.0.0.1:3000');
  }
  const paranoia = Number(values.paranoia);
  if (![1, 2, 3, 4].includes(paranoia)) errors.push('--paranoia: expected 1, 2, 3 or 4');
  const bodyLimit = Number(values['body-limit']);
  if (!Number.isInteger(bodyLimit) || bodyLimit < 0) {
    errors.push('--body-limit: expected a non-negative number of bytes');
  }
  const sample = Number(values['sample-clean']);
  if (!(sample >= 0 && sample <= 1)) errors.push('--sample-clean: expected a share from 0 to 1');
  if (errors.length > 0 || !listen || !upstream) return { errors };
  return {
    listen: { host: listen[1] ?? '', port: Number(listen[2]) },
    upstream,
    inspector: { paranoia: paranoia as Paranoia },
    bodyLimitBytes: bodyLimit,
    sampleClean: sample,
  };
}

/**
 * `mamori defender waas`: the proxy on its own, verdicts in the log (events go to the pipeline
 * once the agent hosts the proxy).
 * @throws Error listing what is wrong with the arguments, or why the proxy could not listen.
 */
export async function startWaasProxyCommand(
  argv: readonly string[],
  logger: Logger,
): Promise<Stoppable & { proxy: WaasProxy }> {
  const parsed = parseWaasProxyArgs(argv);
  if ('errors' in parsed) throw new Error(`${parsed.errors.join('; ')}\n\n${WAAS_PROXY_USAGE}`);
  const proxy = createWaasProxy({ ...parsed, logger });
  await proxy.start();
  return {
    proxy,
    stop: () => proxy.stop(),
  };
}
