// Runs every workspace's tests in one Vitest run and ends with one summary line,
// "tests: N passed, N failed, N skipped", that CI and people can read at a glance.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const require = createRequire(import.meta.url);
const vitest = join(require.resolve('vitest/package.json'), '..', 'vitest.mjs');
const reportDir = join(process.cwd(), '.cache');
const report = join(reportDir, 'vitest-report.json');
mkdirSync(reportDir, { recursive: true });
rmSync(report, { force: true });

const run = spawnSync(
  process.execPath,
  [
    vitest,
    'run',
    '--reporter=default',
    '--reporter=json',
    `--outputFile.json=${report}`,
    ...process.argv.slice(2),
  ],
  { stdio: 'inherit' },
);

let summary = 'tests: 0 passed, 1 failed (no report: vitest did not finish)';
try {
  const result = JSON.parse(readFileSync(report, 'utf8'));
  const skipped = result.numPendingTests + result.numTodoTests;
  // A suite that failed to load counts as a failure even though it ran no test.
  const failedSuites = result.testResults.filter(
    (file) => file.status === 'failed' && file.assertionResults.length === 0,
  ).length;
  summary = `tests: ${result.numPassedTests} passed, ${result.numFailedTests + failedSuites} failed, ${skipped} skipped`;
} catch {
  // keep the no-report summary
}
process.stdout.write(`\n${summary}\n`);
process.exit(run.status ?? 1);
