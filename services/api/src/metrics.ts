import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface ApiMetrics {
  readonly registry: Registry;
  readonly httpRequests: Counter<'route' | 'method' | 'status'>;
  readonly httpDuration: Histogram<'route' | 'method'>;
  readonly operations: Counter<'operation' | 'type' | 'outcome'>;
  readonly operationDuration: Histogram<'operation' | 'type'>;
  /** The label of an operation name: client-chosen, so the distinct values are bounded. */
  operationLabel(name: string | undefined): string;
}

/** 200 distinct operation names: the queries of a few dashboards and scripts, not an attack's. */
const MAX_OPERATION_LABELS = 200;

/** Prometheus metrics of one API instance, in a registry of its own (default metrics included). */
export function createMetrics(): ApiMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'mamori_api_' });
  const seen = new Set<string>();
  return {
    registry,
    httpRequests: new Counter({
      name: 'mamori_api_http_requests_total',
      help: 'HTTP requests by route, method and status code.',
      labelNames: ['route', 'method', 'status'],
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: 'mamori_api_http_request_duration_seconds',
      help: 'HTTP request latency by route and method, in seconds.',
      labelNames: ['route', 'method'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    operations: new Counter({
      name: 'mamori_api_graphql_operations_total',
      help: 'GraphQL operations executed, by operation name, type and outcome (ok, error).',
      labelNames: ['operation', 'type', 'outcome'],
      registers: [registry],
    }),
    operationDuration: new Histogram({
      name: 'mamori_api_graphql_operation_duration_seconds',
      help: 'GraphQL execution latency by operation name and type, in seconds.',
      labelNames: ['operation', 'type'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    operationLabel(name) {
      if (name === undefined) return 'anonymous';
      if (seen.has(name)) return name;
      if (seen.size >= MAX_OPERATION_LABELS || name.length > 64) return 'other';
      seen.add(name);
      return name;
    },
  };
}
