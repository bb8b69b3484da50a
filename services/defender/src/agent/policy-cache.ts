import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { protoType, type Policy__Output } from '@mamori/proto';

const FILE = 'policies.pb';
const UPDATE = protoType('mamori.v1.PolicyUpdate');

/** The last policy set pushed, kept beside the spool so that a restarted agent enforces it. */
export interface CachedPolicies {
  tenant: string;
  policies: Policy__Output[];
}

/** Writes the set (replacing the file at once, never half-written). */
export async function savePolicies(dir: string, cached: CachedPolicies): Promise<void> {
  // The tenant goes in `version` of a PolicyUpdate: one message, no format of its own.
  const bytes = UPDATE.encode(
    UPDATE.fromObject({ version: cached.tenant, policies: cached.policies }),
  ).finish();
  const temp = join(dir, `${FILE}.tmp`);
  await writeFile(temp, bytes, { mode: 0o600 });
  await rename(temp, join(dir, FILE));
}

/** The kept set, or undefined when there is none (or it cannot be read). */
export async function loadPolicies(dir: string): Promise<CachedPolicies | undefined> {
  try {
    const object = UPDATE.toObject(UPDATE.decode(await readFile(join(dir, FILE))), {
      longs: Number,
      enums: String,
      defaults: true,
    }) as { version: string; policies: Policy__Output[] };
    return { tenant: object.version, policies: object.policies };
  } catch {
    return undefined;
  }
}
