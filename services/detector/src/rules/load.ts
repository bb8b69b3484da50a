import { readFile } from 'node:fs/promises';
import { loadBuiltinRules, loadRuleFiles, type RuleFile, type RuleSet } from '@mamori/rules';

/** What the detector runs: the built-ins (when on) and the listed files, and what was wrong. */
export interface LoadedRules extends RuleSet {
  /** Listed files that could not be read, with the reason. */
  unreadable: { file: string; reason: string }[];
}

export interface RuleLoaderOptions {
  builtin: boolean;
  files: readonly string[];
}

/** Loads the detector's rules; reading and compiling never throw on file content. */
export interface RuleLoader {
  load(): Promise<LoadedRules>;
}

/**
 * A loader of the built-in rules (compiled once: they ship with the package and never change
 * while running) and of the listed files (read again on every load). Falco files load together
 * in the listed order, so a later file may override an earlier one; Sigma files each on their
 * own (`loadRuleFiles`).
 * @throws Error from `load` only when the built-in rule file is missing (a broken installation).
 */
export function createRuleLoader(options: RuleLoaderOptions): RuleLoader {
  let builtin: RuleSet | undefined;
  return {
    async load() {
      if (options.builtin) builtin ??= loadBuiltinRules();
      const files: RuleFile[] = [];
      const unreadable: LoadedRules['unreadable'] = [];
      for (const path of options.files) {
        try {
          files.push({ path, text: await readFile(path, 'utf8') });
        } catch (err) {
          const code = (err as { code?: unknown }).code;
          unreadable.push({
            file: path,
            reason: typeof code === 'string' ? code : (err as Error).message,
          });
        }
      }
      const loaded = files.length > 0 ? loadRuleFiles(files) : undefined;
      return {
        rules: [...(builtin?.rules ?? []), ...(loaded?.rules ?? [])],
        skipped: [...(builtin?.skipped ?? []), ...(loaded?.skipped ?? [])],
        problems: [...(builtin?.problems ?? []), ...(loaded?.problems ?? [])],
        unreadable,
      };
    },
  };
}

/** Whether a reload replaces the running rules, and why not. */
export type ReloadVerdict = { apply: true } | { apply: false; reason: string };

/**
 * Decides whether newly loaded rules replace the running ones. A reload is refused, and the
 * running rules stay, when a listed file could not be read (an editor's save may replace the
 * file while we read), or when it brings more problems than the running set had *and* fewer
 * rules: that is a rule file caught half-edited or broken (a YAML error drops a whole file),
 * not a deliberate change. A file emptied on purpose, or edited while it has the same
 * long-standing problems (Falco rules that cannot run on every kind), is applied.
 */
export function reloadVerdict(
  running: Pick<LoadedRules, 'rules' | 'problems'>,
  next: LoadedRules,
): ReloadVerdict {
  if (next.unreadable.length > 0) {
    const files = next.unreadable.map(({ file, reason }) => `${file} (${reason})`).join(', ');
    return { apply: false, reason: `rule files cannot be read: ${files}` };
  }
  if (next.problems.length > running.problems.length && next.rules.length < running.rules.length) {
    return {
      apply: false,
      reason: `the rule files have new problems and would drop ${running.rules.length - next.rules.length} of ${running.rules.length} rules`,
    };
  }
  return { apply: true };
}
