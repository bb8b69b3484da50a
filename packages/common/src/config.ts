import { ErrorCode, MamoriError } from './errors.js';

export interface IntOptions {
  min?: number;
  max?: number;
}

/**
 * Reads typed settings from environment variables and collects every problem, so that a
 * misconfigured service reports all of them at once instead of one per restart.
 *
 * ```ts
 * const env = createEnvReader(process.env);
 * const port = env.int('MAMORI_INGEST_PORT', 7070, { min: 0, max: 65535 });
 * env.done(); // throws one MamoriError listing every problem
 * ```
 */
export interface EnvReader {
  string(name: string, fallback: string): string;
  optionalString(name: string): string | undefined;
  int(name: string, fallback: number, options?: IntOptions): number;
  bool(name: string, fallback: boolean): boolean;
  oneOf<const T extends string>(name: string, values: readonly T[], fallback: T): T;
  list(name: string, fallback: readonly string[]): string[];
  /** Records a problem found by the caller's own checks. */
  problem(message: string): void;
  /** @throws MamoriError Config naming every problem collected so far. */
  done(): void;
}

/** An EnvReader over `env`. */
export function createEnvReader(env: NodeJS.ProcessEnv): EnvReader {
  const problems: string[] = [];
  const raw = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  };
  return {
    string: (name, fallback) => raw(name) ?? fallback,
    optionalString: (name) => raw(name),
    int(name, fallback, options = {}) {
      const value = raw(name);
      if (value === undefined) return fallback;
      const parsed = Number(value);
      if (!/^-?\d+$/.test(value) || !Number.isSafeInteger(parsed)) {
        problems.push(`${name}: expected an integer, got ${JSON.stringify(value)}`);
        return fallback;
      }
      if (options.min !== undefined && parsed < options.min) {
        problems.push(`${name}: must be at least ${options.min}, got ${parsed}`);
      } else if (options.max !== undefined && parsed > options.max) {
        problems.push(`${name}: must be at most ${options.max}, got ${parsed}`);
      }
      return parsed;
    },
    bool(name, fallback) {
      const value = raw(name)?.toLowerCase();
      if (value === undefined) return fallback;
      if (['1', 'true', 'yes', 'on'].includes(value)) return true;
      if (['0', 'false', 'no', 'off'].includes(value)) return false;
      problems.push(`${name}: expected true or false, got ${JSON.stringify(value)}`);
      return fallback;
    },
    oneOf(name, values, fallback) {
      const value = raw(name);
      if (value === undefined) return fallback;
      if ((values as readonly string[]).includes(value)) return value as (typeof values)[number];
      problems.push(`${name}: expected one of ${values.join(', ')}, got ${JSON.stringify(value)}`);
      return fallback;
    },
    list(name, fallback) {
      const value = raw(name);
      if (value === undefined) return [...fallback];
      return value
        .split(',')
        .map((item) => item.trim())
        .filter(Boolean);
    },
    problem(message) {
      problems.push(message);
    },
    done() {
      if (problems.length > 0) {
        throw new MamoriError(
          ErrorCode.Config,
          `invalid configuration:\n  - ${problems.join('\n  - ')}`,
          { context: { problems: problems.length } },
        );
      }
    },
  };
}

/**
 * Where embedded state lives (the log, chDB, generated credentials) unless `MAMORI_DATA_DIR`
 * says otherwise: `./data`, relative to the directory Mamori is started in.
 */
export const DEFAULT_DATA_DIR = 'data';
