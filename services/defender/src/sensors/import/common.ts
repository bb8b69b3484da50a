/** A JSON object as read from a line; fields are checked where they are used. */
export type JsonObject = Record<string, unknown>;

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function text(value: unknown): string | undefined {
  if (typeof value === 'string') return value === '' ? undefined : value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

export function int(value: unknown): number | undefined {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  return typeof n === 'number' && Number.isSafeInteger(n) ? n : undefined;
}

/**
 * RFC 3339 time with up to nanoseconds (`2024-05-21T10:20:05.408091526Z`) → microseconds
 * since the epoch; Date.parse alone would drop the microseconds.
 */
export function rfc3339ToMicros(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const match = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(value);
  if (!match) return undefined;
  const seconds = Date.parse(`${match[1]}${match[3]}`);
  if (Number.isNaN(seconds)) return undefined;
  const fraction = Number(((match[2] ?? '') + '000000').slice(0, 6));
  return seconds * 1000 + fraction;
}

/** Drops fields left undefined, so events carry only what the source said. */
export function compact<T extends object>(value: T): T {
  for (const key of Object.keys(value) as Array<keyof T>) {
    if (value[key] === undefined) delete value[key];
  }
  return value;
}

/** Truncates a label value: labels are small by contract. */
export function label(value: string, max = 256): string {
  return value.length <= max ? value : `${value.slice(0, max - 1)}…`;
}
