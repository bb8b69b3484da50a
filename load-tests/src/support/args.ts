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

/** The options of a benchmark that drives simulated agents (parseArgs specs). */
export function agentLoadOptions(defaultSeconds: number) {
  return {
    bus: { type: 'string', default: 'embedded' },
    agents: { type: 'string', default: '8' },
    seconds: { type: 'string', default: String(defaultSeconds) },
    rate: { type: 'string', default: '0' },
    batch: { type: 'string', default: '500' },
    window: { type: 'string', default: '4' },
    brokers: { type: 'string' },
    profile: { type: 'string' },
    help: { type: 'boolean', default: false },
  } as const;
}

/** The validated values of `agentLoadOptions`. */
export interface AgentLoad {
  bus: 'embedded' | 'kafka';
  agents: number;
  seconds: number;
  /** Events/s over all agents; 0 sends as fast as acknowledgements allow. */
  rate: number;
  batch: number;
  window: number;
}

/**
 * Checks the parsed values of `agentLoadOptions`.
 * @throws Error naming the first bad option.
 */
export function readAgentLoad(values: {
  bus?: string;
  agents?: string;
  seconds?: string;
  rate?: string;
  batch?: string;
  window?: string;
}): AgentLoad {
  const bus = values.bus;
  if (bus !== 'embedded' && bus !== 'kafka') {
    throw new Error(`--bus: expected embedded or kafka, got ${bus}`);
  }
  const rate = Number(values.rate);
  if (!Number.isFinite(rate) || rate < 0) {
    throw new Error(`--rate: expected a number ≥ 0, got ${values.rate}`);
  }
  return {
    bus,
    agents: positive('agents', values.agents),
    seconds: positive('seconds', values.seconds),
    rate,
    batch: positive('batch', values.batch),
    window: positive('window', values.window),
  };
}
