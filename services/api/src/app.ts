import { Transform } from 'node:stream';
import { checkReadiness, type Logger, type ReadinessCheck } from '@mamori/common';
import { Topics } from '@mamori/proto';
import fastify, {
  LogController,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type RawReplyDefaultExpression,
  type RawRequestDefaultExpression,
  type RawServerDefault,
} from 'fastify';
import { GraphQLError, getOperationAST, type DocumentNode, type ExecutionResult } from 'graphql';
import { createSchema, createYoga, type Plugin } from 'graphql-yoga';
import { Registry } from 'prom-client';
import { bearerToken, type Caller } from './auth/tokens.js';
import type { ApiConfig } from './config.js';
import { limitRules } from './graphql/limits.js';
import {
  ApiErrorCode,
  resolvers,
  type ApiContext,
  type ApiWarehouse,
} from './graphql/resolvers.js';
import { typeDefs } from './graphql/schema.js';
import { createMetrics, type ApiMetrics } from './metrics.js';
import { createPolicyTopic, type PolicyBus } from './policies/policy-topic.js';
import { createTuningTopic } from './tuning/tuning-topic.js';

export interface ApiDeps {
  config: Pick<
    Readonly<ApiConfig>,
    'host' | 'port' | 'tokens' | 'limits' | 'connectedWithinSeconds'
  >;
  warehouse: ApiWarehouse;
  /** Whether the warehouse answers, for `/readyz`. */
  ping(): Promise<boolean>;
  logger: Logger;
  /**
   * The other services of the same process (`mamori start`): `/readyz` is ready only when
   * `ready` also says so, and `/metrics` serves their registries beside the API's.
   */
  colocated?: { ready: ReadinessCheck; registries: readonly Registry[] };
  /**
   * The bus holding the policies topic, for `policies`, `upsertPolicy` and `deletePolicy`;
   * without one they fail with POLICIES_UNAVAILABLE. The API does not close it.
   */
  bus?: PolicyBus;
  /** @default Topics.policies */
  policiesTopic?: string;
  /**
   * The rule tuning topic (exceptions and rule settings) and the detectors' rule catalog
   * topic, on the same bus, for `rules`, `ruleExceptions` and their mutations.
   * @default Topics.ruleTuning and Topics.ruleCatalog
   */
  tuningTopics?: { tuning: string; catalog: string };
}

export interface ApiApp {
  /** The fastify instance, for `inject()` in tests. */
  readonly server: FastifyInstance<
    RawServerDefault,
    RawRequestDefaultExpression,
    RawReplyDefaultExpression,
    Logger
  >;
  readonly metrics: ApiMetrics;
  /** Listens on the configured host and port; resolves to the port (useful with port 0). */
  start(): Promise<{ port: number }>;
  /** Stops accepting requests and waits for those in flight. */
  stop(): Promise<void>;
}

/**
 * By name rather than instanceof: graphql 16 ships CommonJS and ESM copies, and yoga may load
 * the other one than this module (vitest does), so their GraphQLError classes differ.
 */
function isGraphQLError(value: unknown): value is GraphQLError {
  return value instanceof Error && value.name === 'GraphQLError';
}

const GRAPHQL_PATH = '/graphql';
/** 2 s: a readiness probe must answer before Kubernetes' default 1 s timeout times a few retries. */
const READY_TIMEOUT_MS = 2000;

interface ServerContext {
  req: FastifyRequest;
  reply: FastifyReply;
}

function unauthenticated(reply: FastifyReply, message: string): FastifyReply {
  return reply
    .code(401)
    .header('www-authenticate', 'Bearer')
    .type('application/json; charset=utf-8')
    .send({ errors: [{ message, extensions: { code: ApiErrorCode.Unauthenticated } }] });
}

/** An error fastify answers with 413, naming the limit. */
function bodyTooLarge(limit: number): Error {
  return Object.assign(new Error(`the request body is larger than ${limit} bytes`), {
    statusCode: 413,
    code: 'BODY_TOO_LARGE',
  });
}

/**
 * A body sent without a declared length (chunked), failing with 413 once more than `limit`
 * bytes arrived.
 */
function limitStream(payload: NodeJS.ReadableStream, limit: number): NodeJS.ReadableStream {
  let received = 0;
  const limited = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      received += chunk.length;
      if (received > limit) callback(bodyTooLarge(limit));
      else callback(null, chunk);
    },
  });
  payload.on('error', (err: Error) => limited.destroy(err));
  return payload.pipe(limited);
}

/** Builds the API without listening: fastify with GraphQL (yoga) and the probes. */
export function buildApp(deps: ApiDeps): ApiApp {
  const { config, warehouse, logger } = deps;
  const adminBodyLimit = Math.max(config.limits.maxBodyBytes, config.limits.maxAdminBodyBytes);
  const bodyLimitOf = (caller: Caller | undefined): number =>
    caller?.role === 'admin' ? adminBodyLimit : config.limits.maxBodyBytes;
  const metrics = createMetrics();
  // Merged once: the registries share their metric objects, so values stay live.
  const registry = deps.colocated
    ? Registry.merge([metrics.registry, ...deps.colocated.registries])
    : metrics.registry;
  const callers = new WeakMap<FastifyRequest, Caller>();
  const policies = deps.bus
    ? createPolicyTopic({
        bus: deps.bus,
        topic: deps.policiesTopic ?? Topics.policies,
        logger: logger.child({ component: 'policies' }),
      })
    : undefined;
  const tuning = deps.bus
    ? createTuningTopic({
        bus: deps.bus,
        topic: deps.tuningTopics?.tuning ?? Topics.ruleTuning,
        catalogTopic: deps.tuningTopics?.catalog ?? Topics.ruleCatalog,
        logger: logger.child({ component: 'tuning' }),
      })
    : undefined;

  const server = fastify({
    loggerInstance: logger,
    // Metrics count every request; per-request log lines would only repeat them.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.limits.maxBodyBytes,
    // A request that has not arrived whole after a query timeout and a bit is abandoned.
    requestTimeout: config.limits.queryTimeoutMs + 5000,
  });

  const operationMetrics: Plugin = {
    onExecute({ args }) {
      const { document, operationName } = args as {
        document: DocumentNode;
        operationName?: string | null;
      };
      const operation = getOperationAST(document, operationName);
      const labels = {
        operation: metrics.operationLabel(operation?.name?.value),
        type: operation?.operation ?? 'query',
      };
      const stop = metrics.operationDuration.startTimer(labels);
      return {
        onExecuteDone({ result }) {
          stop();
          const failed = ((result as ExecutionResult).errors?.length ?? 0) > 0;
          metrics.operations.inc({ ...labels, outcome: failed ? 'error' : 'ok' });
        },
      };
    },
  };
  const limits: Plugin = {
    onValidate({ addValidationRule }) {
      for (const rule of limitRules({
        maxDepth: config.limits.maxDepth,
        maxComplexity: config.limits.maxComplexity,
        maxPageSize: config.limits.maxPageSize,
        defaultPageSize: 50,
      })) {
        addValidationRule(rule);
      }
    },
  };

  const yoga = createYoga<ServerContext, ApiContext>({
    schema: createSchema<ApiContext & ServerContext>({ typeDefs, resolvers }),
    graphqlEndpoint: GRAPHQL_PATH,
    graphiql: { title: 'Mamori API' },
    landingPage: false,
    // Errors are logged by maskError below, with the request they belong to.
    logging: false,
    plugins: [limits, operationMetrics],
    context: ({ req }) => {
      const caller = callers.get(req);
      if (!caller) {
        throw new GraphQLError('a bearer token is required', {
          extensions: { code: ApiErrorCode.Unauthenticated, http: { status: 401 } },
        });
      }
      return {
        caller,
        warehouse,
        limits: config.limits,
        connectedWithinSeconds: config.connectedWithinSeconds,
        ...(policies ? { policies } : {}),
        ...(tuning ? { tuning } : {}),
      };
    },
    maskedErrors: {
      maskError(error, message) {
        const located = isGraphQLError(error) ? error : undefined;
        const original = located ? located.originalError : error;
        if (located && original == null) return located;
        if (located && isGraphQLError(original)) {
          return new GraphQLError(located.message, {
            nodes: located.nodes,
            path: located.path,
            extensions: { ...located.extensions, ...original.extensions },
          });
        }
        logger.error(
          { err: original, path: located?.path },
          'unexpected error in a GraphQL operation',
        );
        return new GraphQLError(message, {
          nodes: located?.nodes,
          path: located?.path,
          extensions: { code: ApiErrorCode.Internal },
        });
      },
    },
  });

  server.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unknown';
    metrics.httpRequests.inc({ route, method: request.method, status: String(reply.statusCode) });
    metrics.httpDuration.observe({ route, method: request.method }, reply.elapsedTime / 1000);
    done();
  });

  server.get('/healthz', () => ({ status: 'live' }));
  server.get('/readyz', async (_request, reply) => {
    let ready = false;
    let timer: NodeJS.Timeout | undefined;
    try {
      ready = await Promise.race([
        deps.ping(),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(false), READY_TIMEOUT_MS);
        }),
      ]);
    } catch (err) {
      logger.warn({ err }, 'warehouse unreachable');
    } finally {
      clearTimeout(timer);
    }
    if (!ready) return reply.code(503).send({ status: 'warehouse unreachable' });
    if (deps.colocated) {
      const others = await checkReadiness(deps.colocated.ready, READY_TIMEOUT_MS);
      if (!others.ready) {
        return reply.code(503).send({ status: 'not ready', reason: others.reason });
      }
    }
    return reply.code(200).send({ status: 'ready' });
  });
  server.get('/metrics', async (_request, reply) =>
    reply.type(registry.contentType).send(await registry.metrics()),
  );

  void server.register((scope, _options, done) => {
    // yoga reads the body itself (JSON, GraphQL over HTTP's media types); fastify only bounds it.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, next) => {
      next(null, body);
    });
    // The caller is known before the body is read: a request without a valid token is
    // answered 401 without reading its body, and the body is bounded by the caller's role.
    scope.addHook('onRequest', async (req, reply) => {
      // GraphiQL itself holds no data: a browser gets it without a token, then sends one.
      const wantsGraphiql =
        req.method === 'GET' && (req.headers.accept ?? '').includes('text/html');
      if (wantsGraphiql || req.method === 'OPTIONS') return;
      const token = bearerToken(req.headers.authorization);
      if (token === undefined) return unauthenticated(reply, 'a bearer token is required');
      const caller = config.tokens.identify(token);
      if (!caller) return unauthenticated(reply, 'unknown API token');
      callers.set(req, caller);
    });
    scope.addHook('preParsing', async (req, _reply, payload) => {
      const limit = bodyLimitOf(callers.get(req));
      const length = req.headers['content-length'];
      if (length === undefined) return limitStream(payload, limit);
      // A declared length bounds the body itself: fastify reads no more than it says.
      if (Number(length) > limit) throw bodyTooLarge(limit);
      return payload;
    });
    scope.route({
      url: GRAPHQL_PATH,
      method: ['GET', 'POST', 'OPTIONS'],
      // The largest any caller may send; preParsing holds each caller to its own.
      bodyLimit: adminBodyLimit,
      handler: async (req, reply) => {
        const response = await yoga.handleNodeRequestAndResponse(req, reply, { req, reply });
        response.headers.forEach((value, key) => void reply.header(key, value));
        reply.code(response.status);
        return reply.send(response.body);
      },
    });
    done();
  });

  return {
    server,
    metrics,
    async start() {
      await server.listen({ host: config.host, port: config.port });
      const address = server.server.address();
      const port = typeof address === 'object' && address !== null ? address.port : config.port;
      logger.info({ host: config.host, port }, 'api listening');
      return { port };
    },
    async stop() {
      await server.close();
      await policies?.close();
      await tuning?.close();
    },
  };
}
