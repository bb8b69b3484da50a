import {
  brotliDecompressSync,
  constants,
  gunzipSync,
  inflateRawSync,
  inflateSync,
} from 'node:zlib';

/**
 * Request bodies sent compressed (`Content-Encoding: gzip`, `deflate`, `br`): frameworks inflate
 * them before the application reads them (Express's body parsers do by default), so a WAF that
 * read the compressed bytes would see nothing of a payload sent that way. Decompression is
 * bounded by the inspection limit: a body that inflates past it (a decompression bomb or just a
 * large upload) is read up to about the limit and reported as truncated.
 */

/** The codings this decodes, by their `Content-Encoding` token (RFC 9110). */
const CODINGS = new Set(['gzip', 'x-gzip', 'deflate', 'br']);

/** Shortest prefix of the compressed bytes tried when the whole inflates past the limit. */
const MIN_PREFIX = 64;

/** What {@link decodeContent} made of a body. */
export interface DecodedContent {
  bytes: Buffer;
  /** Whether the body inflated past the limit and only a prefix of it is in `bytes`. */
  truncated: boolean;
}

function inflate(coding: string, input: Buffer, maxOutputLength: number, partial: boolean): Buffer {
  // A prefix of a stream is incomplete: flush what it holds instead of failing on its end.
  const options = {
    maxOutputLength,
    ...(partial ? { finishFlush: constants.Z_SYNC_FLUSH } : {}),
  };
  if (coding === 'br') {
    return brotliDecompressSync(input, {
      maxOutputLength,
      ...(partial ? { finishFlush: constants.BROTLI_OPERATION_FLUSH } : {}),
    });
  }
  if (coding === 'deflate') {
    // `deflate` is zlib-wrapped by the standard, raw in some clients: both are accepted.
    try {
      return inflateSync(input, options);
    } catch (e) {
      if (isTooLarge(e)) throw e;
      return inflateRawSync(input, options);
    }
  }
  return gunzipSync(input, options);
}

function isTooLarge(e: unknown): boolean {
  return (
    e instanceof RangeError ||
    (typeof e === 'object' &&
      e !== null &&
      (e as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE')
  );
}

/**
 * The body's bytes with its content coding undone, or undefined when the coding is none or
 * unknown, or the bytes do not decode as it (then the body is read as it came). Reads at most
 * `limit` bytes of output, trying shorter prefixes of the input when the whole inflates past
 * it. Never throws.
 */
export function decodeContent(
  bytes: Buffer,
  contentEncoding: string,
  limit: number,
): DecodedContent | undefined {
  const coding = contentEncoding.trim().toLowerCase();
  if (!CODINGS.has(coding)) return undefined;
  try {
    return { bytes: inflate(coding, bytes, limit, false), truncated: false };
  } catch (e) {
    if (!isTooLarge(e)) return undefined;
  }
  // Past the limit: halve the input until its output fits (a logarithmic number of tries, each
  // bounded by the limit).
  for (let length = bytes.length >> 1; length >= MIN_PREFIX; length >>= 1) {
    try {
      return { bytes: inflate(coding, bytes.subarray(0, length), limit, true), truncated: true };
    } catch (e) {
      if (!isTooLarge(e)) return { bytes: Buffer.alloc(0), truncated: true };
    }
  }
  return { bytes: Buffer.alloc(0), truncated: true };
}
