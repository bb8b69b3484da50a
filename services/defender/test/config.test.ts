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

  it('reads inline proxies and access logs, adds their sensors, and names what is wrong with them', () => {
    const config = readDefenderConfig({
      MAMORI_DATA_DIR: tempDir(),
      MAMORI_DEFENDER_TOKEN: 't',
      MAMORI_DEFENDER_WAAS_PROXIES:
        '0.0.0.0:8080=http://127.0.0.1:3000,[::1]:8443=https://app:9443/base',
      MAMORI_DEFENDER_ACCESS_LOGS: 'nginx-json=/var/log/nginx/access.json,/var/log/envoy.log',
      MAMORI_DEFENDER_WAAS_MODE: 'detect',
      MAMORI_DEFENDER_WAAS_PARANOIA: '2',
    });
    expect(config.sensors).toEqual(['process', 'network', 'file', 'waas', 'access-log']);
    expect(config.waas.proxies.map((p) => [p.listen, p.upstream.href])).toEqual([
      [{ host: '0.0.0.0', port: 8080 }, 'http://127.0.0.1:3000/'],
      [{ host: '::1', port: 8443 }, 'https://app:9443/base'],
    ]);
    expect(config.waas.accessLogs).toEqual([
      { path: '/var/log/nginx/access.json', format: 'nginx-json' },
      { path: '/var/log/envoy.log', format: 'auto' },
    ]);
    expect(config.waas.local).toEqual({
      paranoia: 2,
      mode: 'detect',
      bodyLimitBytes: 131072,
      sampleClean: 0.01,
    });
    expect(sensorsOf(config).map((s) => s.name)).toEqual(['process', 'network', 'file']);
    expect(() =>
      readDefenderConfig({
        MAMORI_DATA_DIR: tempDir(),
        MAMORI_DEFENDER_TOKEN: 't',
        MAMORI_DEFENDER_SENSORS: 'waas,access-log',
        MAMORI_DEFENDER_WAAS_PROXIES: '8080=ftp://x',
        MAMORI_DEFENDER_ACCESS_LOGS: 'apache=/var/log/a.log',
        MAMORI_DEFENDER_WAAS_MODE: 'maybe',
      }),
    ).toThrow(
      /WAAS_PROXIES: expected LISTEN=UPSTREAM(.|\n)*ACCESS_LOGS: expected \[FORMAT=\]PATH(.|\n)*WAAS_MODE: expected block or detect(.|\n)*lists waas(.|\n)*lists access-log/,
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

  it('names itself with a fleet credential of mamori start: the hostname unless told', () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, 'agents.json'),
      JSON.stringify({ agents: [{ token: 'fleet-token', tenant: 'default', agentId: '*' }] }),
    );
    expect(
      readDefenderConfig({ MAMORI_DATA_DIR: dir, MAMORI_DEFENDER_HOSTNAME: 'node-7' }),
    ).toMatchObject({ token: 'fleet-token', agentId: 'node-7' });
    expect(
      readDefenderConfig({ MAMORI_DATA_DIR: dir, MAMORI_DEFENDER_AGENT_ID: 'node-7-waas' }),
    ).toMatchObject({ agentId: 'node-7-waas' });
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
