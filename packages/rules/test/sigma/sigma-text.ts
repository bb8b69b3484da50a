import type { Event__Output } from '@mamori/proto';
import type { Process } from '@mamori/proto';
import { buildEvent } from '../support/events.js';

/** A Sigma rule's YAML around `detection` (indented by four spaces per level in the text). */
export function sigmaRule(options: {
  detection: string;
  category?: string;
  title?: string;
  id?: string;
  extra?: string;
}): string {
  const detection = options.detection
    .trim()
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n');
  return [
    `title: ${options.title ?? 'Test rule'}`,
    ...(options.id === undefined ? [] : [`id: ${options.id}`]),
    'logsource:',
    '  product: linux',
    `  category: ${options.category ?? 'process_creation'}`,
    'detection:',
    detection,
    'level: high',
    ...(options.extra === undefined ? [] : [options.extra]),
    '',
  ].join('\n');
}

/** A process_exec event of `process` (args default to the exe alone). */
export function execEvent(process: Process): Event__Output {
  return buildEvent({ process_exec: { process: { args: [process.exe ?? ''], ...process } } });
}
