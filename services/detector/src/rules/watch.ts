import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Logger } from '@mamori/common';

export interface RuleWatcherOptions {
  /** Absolute paths of the files to watch. */
  files: readonly string[];
  /** Called once changes have settled for `debounceMs`. */
  onChange: () => void;
  /** Quiet time after the last change before `onChange`, in ms. */
  debounceMs: number;
  logger: Logger;
}

/** Watches files for changes; `close` stops it. */
export interface RuleWatcher {
  close(): void;
}

/**
 * Watches the directories of `files` rather than the files themselves: editors and config
 * management save by writing a new file and renaming it over the old one, which ends a watch
 * on the old file's inode. Several events of one save (truncate, write, rename) are folded
 * into one `onChange` after `debounceMs` of quiet.
 */
export function watchRuleFiles(options: RuleWatcherOptions): RuleWatcher {
  const { onChange, debounceMs, logger } = options;
  const byDir = new Map<string, Set<string>>();
  for (const file of options.files) {
    const names = byDir.get(dirname(file)) ?? new Set<string>();
    names.add(basename(file));
    byDir.set(dirname(file), names);
  }
  let timer: NodeJS.Timeout | undefined;
  const changed = (): void => {
    clearTimeout(timer);
    timer = setTimeout(onChange, debounceMs);
  };
  const watchers: FSWatcher[] = [];
  for (const [dir, names] of byDir) {
    try {
      const watcher = watch(dir, { persistent: false }, (_event, name) => {
        // Some platforms do not say which file changed: reload to be sure.
        if (name === null || names.has(name.toString())) changed();
      });
      watcher.on('error', (err) =>
        logger.warn({ dir, err }, 'rule files are no longer watched in this directory'),
      );
      watchers.push(watcher);
    } catch (err) {
      logger.warn({ dir, err }, 'rule files cannot be watched; reload() still reloads them');
    }
  }
  return {
    close() {
      clearTimeout(timer);
      for (const watcher of watchers) watcher.close();
    },
  };
}
