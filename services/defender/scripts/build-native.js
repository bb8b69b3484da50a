// Compiles the native helpers under native/ (C, Linux only, libc and kernel headers) into
// dist/native/<name>, or into the directory given by `--out DIR` (tests use a temporary one).
// Without a C compiler (or off Linux) it warns and succeeds: the sensors then fall back to
// their portable modes (e.g. the process sensor polls /proc). A compiler error fails the build.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import process from 'node:process';

const packageDir = join(import.meta.dirname, '..');
const outFlag = process.argv.indexOf('--out');
const outDir =
  outFlag >= 0 && process.argv[outFlag + 1]
    ? resolve(process.argv[outFlag + 1])
    : join(packageDir, 'dist', 'native');
const sourceDir = join(packageDir, 'native');
const sources = readdirSync(sourceDir).filter((f) => f.endsWith('.c'));

function warn(message) {
  process.stderr.write(`build-native: warning: ${message}\n`);
}

if (sources.length === 0) {
  // Nothing to compile.
} else if (process.platform !== 'linux') {
  warn(`not on Linux (${process.platform}); native helpers not built, sensors fall back`);
} else {
  const cc = process.env.CC || 'cc';
  const probe = spawnSync(cc, ['--version'], { stdio: 'ignore' });
  if (probe.error !== undefined || probe.status !== 0) {
    warn(`no C compiler (${cc}); native helpers not built, sensors fall back`);
  } else {
    mkdirSync(outDir, { recursive: true });
    for (const source of sources) {
      const output = join(outDir, basename(source, '.c'));
      const result = spawnSync(
        cc,
        ['-O2', '-Wall', '-Werror', '-o', output, join(sourceDir, source)],
        {
          stdio: 'inherit',
        },
      );
      if (result.status !== 0) {
        throw new Error(`build-native: ${cc} failed on native/${source} (exit ${result.status})`);
      }
    }
  }
}
