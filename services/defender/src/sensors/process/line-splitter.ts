/**
 * Splits a byte stream into lines of at most `maxBytes`; a longer line is dropped whole
 * (counted in `overlong`) so that one runaway line never grows memory without bound.
 */
export class LineSplitter {
  readonly #maxBytes: number;
  readonly #onLine: (line: string) => void;
  #parts: Buffer[] = [];
  #size = 0;
  #skipping = false;
  overlong = 0;

  constructor(maxBytes: number, onLine: (line: string) => void) {
    this.#maxBytes = maxBytes;
    this.#onLine = onLine;
  }

  push(chunk: Buffer): void {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(10, start);
      const end = nl < 0 ? chunk.length : nl;
      if (!this.#skipping) {
        if (this.#size + (end - start) > this.#maxBytes) {
          this.#skipping = true;
          this.overlong++;
          this.#parts = [];
          this.#size = 0;
        } else if (end > start) {
          this.#parts.push(chunk.subarray(start, end));
          this.#size += end - start;
        }
      }
      if (nl < 0) return;
      if (!this.#skipping) {
        const line = Buffer.concat(this.#parts, this.#size).toString('utf8');
        this.#parts = [];
        this.#size = 0;
        this.#onLine(line);
      }
      this.#skipping = false;
      start = nl + 1;
    }
  }
}
