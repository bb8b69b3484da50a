import { randomBytes } from 'node:crypto';
import { testKafkaBrokers } from '@mamori/common/testing';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { onTestFinished } from 'vitest';
import type { Bus, TopicSpec } from '../../src/index.js';
import { createKafkaBus } from '../../src/index.js';
import type { KafkaBusOptions } from '../../src/kafka/options.js';

/** Brokers for this file's tests, or undefined (after a loud warning) to skip them. */
export const brokers = testKafkaBrokers();

/** A name no other test (or earlier run) uses. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}

/**
 * A kafkajs admin client of the test itself, to look at the broker from outside the bus
 * (topic configs, deletions made "by someone else").
 */
export async function openInspector(): Promise<Admin> {
  const kafka = new Kafka({
    brokers: brokers ?? [],
    clientId: 'mamori-test-inspector',
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  await admin.connect();
  return admin;
}

/** A Kafka bus closed when the test finishes. Fast rebalances: tests create many groups. */
export function openBus(options: Partial<KafkaBusOptions> = {}): Bus {
  const bus = createKafkaBus({
    brokers: brokers ?? [],
    clientId: 'mamori-test',
    sessionTimeoutMs: 6_000,
    heartbeatIntervalMs: 500,
    rebalanceTimeoutMs: 10_000,
    maxWaitMs: 200,
    redeliveryBackoff: { initialMs: 100, maxMs: 500 },
    ...options,
  });
  onTestFinished(() => bus.close());
  return bus;
}

/** Creates a topic with a unique name through the bus, and deletes it when the test finishes. */
export async function createTopic(
  bus: Bus,
  inspector: Admin,
  spec: Omit<TopicSpec, 'topic'> = {},
): Promise<string> {
  const topic = uniqueName('t');
  onTestFinished(async () => {
    // kafkajs retries deleting a topic that is already gone for seconds: look first.
    if ((await inspector.listTopics()).includes(topic))
      await inspector.deleteTopics({ topics: [topic] });
  });
  await bus.ensureTopics([{ topic, ...spec }]);
  return topic;
}

/** Polls `check` until it returns true, or fails after `timeoutMs`. */
export async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export const text = (s: string): Buffer => Buffer.from(s, 'utf8');
