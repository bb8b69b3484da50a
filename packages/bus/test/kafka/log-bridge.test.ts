import { Writable } from 'node:stream';
import { createLogger } from '@mamori/common';
import { logLevel } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { createLogBridge, kafkaJsLogLevel } from '../../src/kafka/log-bridge.js';

function capture(level: string): {
  lines: Array<Record<string, unknown>>;
  logger: ReturnType<typeof createLogger>;
} {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      callback();
    },
  });
  return { lines, logger: createLogger({ name: 'test', level, destination }) };
}

describe('kafkajs log bridge', () => {
  it("writes kafkajs entries through pino with kafkajs's namespace and fields, without secrets or payloads", () => {
    const { lines, logger } = capture('info');
    const log = createLogBridge(logger)(logLevel.INFO);
    log({
      namespace: 'Consumer',
      level: logLevel.ERROR,
      label: 'ERROR',
      log: {
        timestamp: 'now',
        message: 'Crash',
        groupId: 'g1',
        sasl: { password: 'hunter2' },
        password: 'hunter2',
        data: { records: ['agent payload'] },
      },
    });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 50, kafkajs: 'Consumer', groupId: 'g1', msg: 'Crash' });
    expect(JSON.stringify(lines)).not.toContain('hunter2');
    expect(JSON.stringify(lines)).not.toContain('agent payload');
  });

  it('demotes protocol errors that kafkajs retries by itself to debug', () => {
    const { lines, logger } = capture('info');
    createLogBridge(logger)(logLevel.INFO)({
      namespace: 'Connection',
      level: logLevel.ERROR,
      label: 'ERROR',
      log: {
        timestamp: 'now',
        message: 'Response Metadata(key: 3, version: 6)',
        error: 'leader not available',
      },
    });
    expect(lines).toHaveLength(0);
  });

  it("follows the pino logger's level", () => {
    expect(kafkaJsLogLevel(undefined)).toBe(logLevel.NOTHING);
    expect(kafkaJsLogLevel(capture('warn').logger)).toBe(logLevel.WARN);
    expect(kafkaJsLogLevel(capture('debug').logger)).toBe(logLevel.DEBUG);
    expect(kafkaJsLogLevel(capture('silent').logger)).toBe(logLevel.NOTHING);
  });
});
