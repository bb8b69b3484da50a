import { ErrorCode, MamoriError } from '@mamori/common';

/** One position in a listing, as the values of its sort key. */
export type CursorValues = readonly (string | number)[];

/** An opaque cursor (base64url JSON) for the position after `values`. */
export function encodeCursor(values: CursorValues): string {
  return Buffer.from(JSON.stringify(values)).toString('base64url');
}

/**
 * The sort-key values of a cursor made by `encodeCursor`, checked against the expected shape.
 * @throws MamoriError Validation (field `cursor`) when it was not made for this listing.
 */
export function decodeCursor<const T extends readonly ('string' | 'number')[]>(
  cursor: string,
  shape: T,
): { [K in keyof T]: T[K] extends 'number' ? number : string } {
  let values: unknown;
  try {
    values = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    values = undefined;
  }
  const valid =
    Array.isArray(values) &&
    values.length === shape.length &&
    shape.every((type, i) =>
      type === 'number' ? Number.isSafeInteger(values[i]) : typeof values[i] === 'string',
    );
  if (!valid) {
    throw new MamoriError(ErrorCode.Validation, 'invalid cursor', {
      context: { field: 'cursor' },
    });
  }
  return values as { [K in keyof T]: T[K] extends 'number' ? number : string };
}
