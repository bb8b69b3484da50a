import { createEventCodec, type Event, type Event__Output } from '@mamori/proto';

const codec = createEventCodec();

/**
 * An event as a consumer of the bus sees it: `partial` encoded and decoded again, so every
 * field has its default and `payload` names the oneof member that is set.
 */
export function buildEvent(partial: Event): Event__Output {
  return codec.decode(
    codec.encode({ id: 'e-1', tenant_id: 'city-a', agent_id: 'node-1', ...partial }),
  );
}
