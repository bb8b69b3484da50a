import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Where a V8 CPU profile spent its time: the functions with most self time. */
export interface ProfileSummary {
  file: string;
  /** `function file:line` and its share of all samples, in percent, largest first. */
  top: { fn: string; selfPercent: number }[];
}

function label(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  // Dependencies by package path (kafkajs/src/…), our own files by their last folders.
  const inModules = url.lastIndexOf('node_modules/');
  const file =
    inModules >= 0
      ? url.slice(inModules + 'node_modules/'.length)
      : url.split('/').slice(-3).join('/');
  return `${functionName || '(anonymous)'}${file ? ` ${file}:${lineNumber + 1}` : ''}`;
}

/** The `count` functions with most self time in one .cpuprofile file. */
export function summarizeProfile(file: string, count = 15): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    const node = byId.get(id);
    if (!node) return;
    total += delta;
    const key = label(node);
    self.set(key, (self.get(key) ?? 0) + delta);
  });
  const top = [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([fn, time]) => ({
      fn,
      selfPercent: Math.round((time / Math.max(total, 1)) * 1000) / 10,
    }));
  return { file, top };
}

/** Summaries of every .cpuprofile in a directory, newest names last. */
export function summarizeProfiles(dir: string, count?: number): ProfileSummary[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.cpuprofile'))
    .sort()
    .map((name) => summarizeProfile(join(dir, name), count));
}
