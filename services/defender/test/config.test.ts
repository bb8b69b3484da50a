import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { readDefenderConfig } from '../src/config.js';
import { sensorsOf } from '../src/run.js';

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'mamori-defender-config-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

describe('readDefenderConfig', () => {
  it('lists every problem at once', () => {
    expect(() =>
      readDefenderConfig({
        MAMORI_DATA_DIR: tempDir(),
        MAMORI_DEFENDER_SENSORS: 'process,kprobes,falco',
        MAMORI_DEFENDER_FALCO_LISTEN: 'nowhere',
      }),
    ).toThrow(
      /MAMORI_DEFENDER_TOKEN(.|\n)*unknown sensor kprobes(.|\n)*MAMORI_DEFENDER_FALCO_LISTEN: expected host:port(.|\n)*lists falco/,
    );
  });

  it('takes the local credential of mamori start from the data directory, agent id included', () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, 'agents.json'),
      JSON.stringify({ agents: [{ token: 'secret-token', tenant: 'default', agentId: 'local' }] }),
    );
    const config = readDefenderConfig({ MAMORI_DATA_DIR: dir });
    expect(config).toMatchObject({
      token: 'secret-token',
      agentId: 'local',
      ingest: '127.0.0.1:7070',
      sensors: ['process', 'network', 'file'],
      spool: { dir: join(dir, 'defender-spool') },
    });
  });

  it('builds the sensors asked for: Falco from a file and from HTTP, Tetragon from a file', () => {
    const config = readDefenderConfig({
      MAMORI_DATA_DIR: tempDir(),
      MAMORI_DEFENDER_TOKEN: 't',
      MAMORI_DEFENDER_SENSORS: 'process,falco,tetragon',
      MAMORI_DEFENDER_FALCO_FILE: '/var/log/falco.json',
      MAMORI_DEFENDER_FALCO_LISTEN: '127.0.0.1:0',
      MAMORI_DEFENDER_TETRAGON_FILE: '/var/run/cilium/tetragon/tetragon.log',
    });
    expect(sensorsOf(config).map((s) => s.name)).toEqual(['process', 'falco', 'falco', 'tetragon']);
  });
});
