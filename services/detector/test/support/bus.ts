import type { Bus, Consumer } from '@mamori/bus';

/** Hooks into the bus a detector sees: hold or fail its produces (by topic) and commits. */
export interface BusHooks {
  beforeProduce?: (topic: string) => Promise<void>;
  beforeCommit?: () => Promise<void>;
}

/** `bus` with `hooks` run before each produce and each commit of its consumers. */
export function hookedBus(bus: Bus, hooks: BusHooks): Bus {
  return {
    kind: bus.kind,
    ensureTopics: (specs) => bus.ensureTopics(specs),
    async produce(topic, records) {
      await hooks.beforeProduce?.(topic);
      return bus.produce(topic, records);
    },
    consumer(options) {
      const consumer = bus.consumer(options);
      const hooked: Consumer = {
        run: (handler) => consumer.run(handler),
        async commit(offsets) {
          await hooks.beforeCommit?.();
          return consumer.commit(offsets);
        },
        assignment: () => consumer.assignment(),
        close: () => consumer.close(),
      };
      return hooked;
    },
    offsets: (topic) => bus.offsets(topic),
    committed: (groupId, topic) => bus.committed(groupId, topic),
    close: () => bus.close(),
  };
}
