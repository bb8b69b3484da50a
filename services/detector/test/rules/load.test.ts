import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createRuleLoader, reloadVerdict } from '../../src/index.js';

const RULE = (name: string) => `- rule: ${name}
  desc: test
  condition: evt.type = execve and proc.name = ${name.toLowerCase().replace(/\W/g, '')}
  output: ${name} (%proc.cmdline)
  priority: WARNING
`;

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'mamori-detector-rules-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

describe('rule loader', () => {
  it('loads the built-ins and the listed files together', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'local.yaml'), RULE('Local tool'));
    const builtinOnly = await createRuleLoader({ builtin: true, files: [] }).load();
    const both = await createRuleLoader({ builtin: true, files: [join(dir, 'local.yaml')] }).load();
    expect(both.rules.length).toBe(builtinOnly.rules.length + 1);
    expect(both.rules.at(-1)?.id).toBe('falco:Local tool');
    expect(builtinOnly.rules.every((rule) => rule.source === 'mamori')).toBe(true);
  });

  it('reports a file it cannot read instead of throwing', async () => {
    const loaded = await createRuleLoader({ builtin: false, files: ['/nonexistent.yaml'] }).load();
    expect(loaded.unreadable).toEqual([{ file: '/nonexistent.yaml', reason: 'ENOENT' }]);
    expect(loaded.rules).toEqual([]);
  });
});

describe('reload verdict', () => {
  it('applies a change, a deliberate removal, and a file with the problems it already had', async () => {
    const dir = tempDir();
    const file = join(dir, 'local.yaml');
    const loader = createRuleLoader({ builtin: false, files: [file] });
    writeFileSync(file, RULE('One') + RULE('Two'));
    const running = await loader.load();
    writeFileSync(file, RULE('One'));
    expect(reloadVerdict(running, await loader.load())).toEqual({ apply: true });
    writeFileSync(file, '[]\n');
    expect(reloadVerdict(running, await loader.load())).toEqual({ apply: true });
  });

  it('refuses a broken file that would drop rules, and an unreadable one', async () => {
    const dir = tempDir();
    const file = join(dir, 'local.yaml');
    const loader = createRuleLoader({ builtin: true, files: [file] });
    writeFileSync(file, RULE('One') + RULE('Two'));
    const running = await loader.load();
    // Half-saved: the YAML no longer parses, so the whole file's rules would go.
    writeFileSync(file, `${RULE('One')}- rule: Two\n  condition: [unclosed\n`);
    const broken = await loader.load();
    expect(broken.problems.length).toBeGreaterThan(0);
    expect(reloadVerdict(running, broken)).toMatchObject({
      apply: false,
      reason: expect.stringContaining('new problems'),
    });
    rmSync(file);
    expect(reloadVerdict(running, await loader.load())).toMatchObject({
      apply: false,
      reason: expect.stringContaining('ENOENT'),
    });
  });
});
