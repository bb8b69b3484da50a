/**
 * A command-line option that must be a positive integer.
 * @throws Error naming the option when it is not.
 */
export function positive(name: string, value: string | undefined): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) {
    throw new Error(`--${name}: expected a positive integer, got ${value}`);
  }
  return n;
}

/** Runs a benchmark's main; a failure is one line on stderr and exit code 1. */
export function runMain(benchmark: string, main: () => Promise<void>): void {
  main().catch((err: unknown) => {
    process.stderr.write(
      `${benchmark} failed: ${err instanceof Error ? err.message : String(err)}\n`,
    );
    process.exitCode = 1;
  });
}
