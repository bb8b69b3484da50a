import { testKafkaBrokers } from '@mamori/common/testing';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { afterAll } from 'vitest';
import { createKafkaBus } from '../../src/index.js';
import { describeBusConformance } from './suite.js';

// Undefined (after a loud warning) without MAMORI_TEST_KAFKA_BROKERS: the suite is skipped.
const brokers = testKafkaBrokers();

/** The test's own admin client, to delete what the suite created on the shared broker. */
let inspector: Promise<Admin> | undefined;
function openInspector(): Promise<Admin> {
  inspector ??= (async () => {
    const admin = new Kafka({
      brokers: brokers ?? [],
      clientId: 'mamori-conformance-cleanup',
      logLevel: logLevel.NOTHING,
    }).admin();
    await admin.connect();
    return admin;
  })();
  return inspector;
}
afterAll(async () => {
  if (inspector) await (await inspector).disconnect();
});

async function deleteTopics(topics: string[]): Promise<void> {
  const admin = await openInspector();
  // kafkajs retries deleting a missing topic for seconds (the dead-letter topic may never
  // have been created): delete only those that exist.
  const existing = new Set(await admin.listTopics());
  const present = topics.filter((t) => existing.has(t));
  if (present.length > 0) await admin.deleteTopics({ topics: present });
}

// The bus's defaults, not test-tuned ones: the suite checks what services get.
describeBusConformance('kafka', {
  skip: !brokers,
  open: () => createKafkaBus({ brokers: brokers ?? [], clientId: 'mamori-conformance' }),
  deleteTopics,
});

// Ingest produces from a thread of its own; the same rules hold there.
describeBusConformance('kafka with producer threads', {
  skip: !brokers,
  open: () =>
    createKafkaBus({
      brokers: brokers ?? [],
      clientId: 'mamori-conformance',
      producerThreads: 2,
    }),
  deleteTopics,
});
