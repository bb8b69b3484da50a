import { Kafka, logLevel } from 'kafkajs';

/**
 * Deletes a benchmark's topic and, when given, its consumer group. The Bus interface has no
 * delete (services never delete topics), so this talks to the brokers through kafkajs's admin
 * client. Both deletions are attempted.
 * @throws Error with what could not be deleted.
 */
export async function deleteKafkaTopic(options: {
  brokers: readonly string[];
  topic: string;
  groupId?: string;
}): Promise<void> {
  const admin = new Kafka({
    brokers: [...options.brokers],
    clientId: 'mamori-bench-cleanup',
    logLevel: logLevel.NOTHING,
  }).admin();
  await admin.connect();
  const problems: string[] = [];
  try {
    // The bus has closed its consumer, so the group is empty and can go; its committed offsets
    // would otherwise stay in __consumer_offsets until offsets.retention.minutes (7 days).
    if (options.groupId !== undefined) {
      await admin.deleteGroups([options.groupId]).catch((err: unknown) => {
        problems.push(`group ${options.groupId}: ${message(err)}`);
      });
    }
    await admin.deleteTopics({ topics: [options.topic] }).catch((err: unknown) => {
      problems.push(`topic ${options.topic}: ${message(err)}`);
    });
  } finally {
    await admin.disconnect();
  }
  if (problems.length > 0) throw new Error(`could not delete ${problems.join('; ')}`);
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
