// Entry of the Kafka producer thread (see producer-thread.ts): a Kafka bus of its own that
// only produces. It speaks a small message protocol with the thread that started it.
import { parentPort, workerData } from 'node:worker_threads';
import { createLogger, createSilentLogger, isMamoriError } from '@mamori/common';
import { createKafkaBus } from './kafka-bus.js';
import type { KafkaBusOptions } from './options.js';
import { unpackRecords } from './record-packing.js';
import type {
  ProducerThreadReply,
  ProducerThreadRequest,
  ProducerThreadSetup,
} from './producer-thread.js';

const setup = workerData as ProducerThreadSetup;
const logger = setup.logLevel
  ? createLogger({ name: 'mamori-kafka-producer', level: setup.logLevel })
  : createSilentLogger();
const options: KafkaBusOptions = { ...setup.options, logger, producerThreads: 0 };
const bus = createKafkaBus(options);
const port = parentPort!;

function reply(message: ProducerThreadReply, transfer: ArrayBuffer[] = []): void {
  port.postMessage(message, transfer);
}

port.on('message', (request: ProducerThreadRequest) => {
  if (request.type === 'close') {
    bus.close().then(
      () => reply({ type: 'closed' }),
      (err: unknown) => {
        logger.warn({ err }, 'kafka producer thread did not close cleanly');
        reply({ type: 'closed' });
      },
    );
    return;
  }
  bus.produce(request.topic, unpackRecords(request.records)).then(
    (results) => {
      // Partition and offset of each record, as one transferable array.
      const positions = new Float64Array(results.length * 2);
      results.forEach((result, i) => {
        positions[i * 2] = result.partition;
        positions[i * 2 + 1] = result.offset;
      });
      reply({ type: 'produced', id: request.id, positions: positions.buffer }, [positions.buffer]);
    },
    (err: unknown) => {
      reply({
        type: 'failed',
        id: request.id,
        error: isMamoriError(err)
          ? {
              code: err.code,
              message: err.message,
              retriable: err.retriable,
              context: { ...err.context },
            }
          : { message: err instanceof Error ? err.message : String(err) },
      });
    },
  );
});
