import { createLogger, type Logger } from './logger.js';

/**
 * Test-only helpers: finding the real services (Kafka, ClickHouse, …) that integration tests
 * need, and capturing what a component logs. A suite whose service is missing is skipped loudly; where
 * MAMORI_TEST_REQUIRE_SERVICES names the service (CI sets it), the missing service is an error
 * instead, so that CI can never pass with those suites silently skipped.
 */

/** Services an integration test can ask for, with the variable that names where each is. */
export const TEST_SERVICES = {
  kafka: 'MAMORI_TEST_KAFKA_BROKERS',
} as const;
export type TestService = keyof typeof TEST_SERVICES;

/** Whether the environment demands `service` (MAMORI_TEST_REQUIRE_SERVICES=kafka,… or "all"). */
export function isServiceRequired(
  service: TestService,
  env: NodeJS.ProcessEnv = process.env,
): boolean {
  const required = (env['MAMORI_TEST_REQUIRE_SERVICES'] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return required.includes('all') || required.includes(service);
}

/**
 * The address of a test service from its environment variable, or undefined (after a loud
 * warning) when it is not set.
 * @throws Error when the service is missing but required.
 */
export function testServiceAddress(
  service: TestService,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  const variable = TEST_SERVICES[service];
  const value = env[variable]?.trim();
  if (value) return value;
  if (isServiceRequired(service, env)) {
    throw new Error(
      `${service} is required (MAMORI_TEST_REQUIRE_SERVICES) but ${variable} is not set: start it with deploy/kafka/kafka.sh or unset the requirement`,
    );
  }
  console.warn(
    `\n!!! SKIPPING ${service} integration tests: ${variable} is not set. Run deploy/kafka/kafka.sh start, or .ci/run, to include them.\n`,
  );
  return undefined;
}

/** Kafka brokers for tests, from MAMORI_TEST_KAFKA_BROKERS (comma-separated host:port). */
export function testKafkaBrokers(env: NodeJS.ProcessEnv = process.env): string[] | undefined {
  return testServiceAddress('kafka', env)
    ?.split(',')
    .map((b) => b.trim())
    .filter(Boolean);
}

/** One parsed line of a captured log. */
export interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

/** A real pino logger (level debug) whose lines are kept, parsed, for assertions. */
export function captureLogs(name = 'test'): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const logger = createLogger({
    name,
    level: 'debug',
    destination: { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) },
  });
  return { logger, lines };
}
