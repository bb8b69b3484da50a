#!/usr/bin/env node
// Composition root of the `mamori` command.
import { createLogger, runUntilSignalled, type Logger, type Stoppable } from '@mamori/common';
import {
  startApiService,
  startDefenderAgent,
  startDefenderWaas,
  startDetectorService,
  startIngestService,
  startPlatform,
  startStoreService,
  USAGE,
} from './commands.js';
import { processRulesIo, runRulesCommand } from './rules.js';
import { processWaasIo, runWaasCommand } from './waas.js';

const commands: Record<string, (env: NodeJS.ProcessEnv, logger: Logger) => Promise<Stoppable>> = {
  start: startPlatform,
  ingest: startIngestService,
  detector: startDetectorService,
  store: startStoreService,
  api: startApiService,
  defender: startDefenderAgent,
};

const command = process.argv[2] ?? 'help';
const run = commands[command];
if (command === 'rules') {
  process.exitCode = await runRulesCommand(process.argv.slice(3), processRulesIo);
} else if (command === 'defender' && process.argv[3] === 'waas') {
  const logger = createLogger({ name: 'mamori-defender-waas' });
  const argv = process.argv.slice(4);
  await runUntilSignalled('mamori defender waas', () => startDefenderWaas(argv, logger), logger);
} else if (command === 'waas') {
  process.exitCode = await runWaasCommand(process.argv.slice(3), processWaasIo);
} else if (!run) {
  process.stdout.write(USAGE);
  process.exitCode = ['help', '--help', '-h'].includes(command) ? 0 : 2;
} else {
  const logger = createLogger({ name: `mamori-${command}` });
  await runUntilSignalled(`mamori ${command}`, () => run(process.env, logger), logger);
}
