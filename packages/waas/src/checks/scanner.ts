import type { Detector, Finding, InspectedValue } from '../types.js';
import { finding } from './util.js';

/**
 * Lower-case fragments of the user agents (and out-of-band callback domains) of security
 * scanners and attack tools. A plain `includes` loop: about 40 short needles over one short
 * header is cheaper than building an automaton.
 */
const SCANNER_SIGNATURES: readonly string[] = [
  'sqlmap',
  'nikto',
  'nmap',
  'masscan',
  'wpscan',
  'nuclei',
  'acunetix',
  'netsparker',
  'openvas',
  'nessus',
  '.nasl',
  'w3af',
  'dirbuster',
  'gobuster',
  'feroxbuster',
  'dirb/',
  'fuzz faster u fool',
  'ffuf',
  'wfuzz',
  'zgrab',
  'arachni',
  'skipfish',
  'havij',
  'jaeles',
  'commix',
  'xsstrike',
  'appscan',
  'webinspect',
  'wapiti',
  'paros',
  'zaproxy',
  'owasp zap',
  'burpcollaborator',
  'oastify.com',
  'interact.sh',
  '.oast.',
  'qualys',
  'morfeus',
  'zmeu',
  'hydra',
  'brutus',
];

/** Headers a scanner names itself in. */
const SCANNER_HEADERS = new Set(['user-agent', 'x-scanner', 'x-forwarded-for', 'referer', 'from']);

/**
 * User agents already judged (agent → the signature found, '' for none). Real traffic has few
 * distinct agents; the map is cleared when full, so memory stays bounded whatever clients send.
 */
const seen = new Map<string, string>();
/** Agents remembered; about 100 KiB of strings at typical lengths. */
const MAX_SEEN = 1024;

/** Scanner and attack-tool user agents (category `scanner`). */
export const scannerCheck: Detector = {
  name: 'scanner-user-agent',
  categories: ['scanner'],
  inspect(value: InspectedValue): Finding[] {
    if (value.kind !== 'header' || !SCANNER_HEADERS.has(value.name)) return [];
    let needle = seen.get(value.value);
    if (needle === undefined) {
      needle = '';
      const lower = value.value.toLowerCase();
      for (const n of SCANNER_SIGNATURES) {
        if (lower.includes(n)) {
          needle = n;
          break;
        }
      }
      if (seen.size >= MAX_SEEN) seen.clear();
      seen.set(value.value, needle);
    }
    if (needle === '') return [];
    return [finding(value, 'scanner', 1, `names the scanning tool "${needle}"`, value.value)];
  },
};
