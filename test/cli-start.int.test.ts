import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { connectAgent, execEvent } from '@mamori/ingest/testing';
import { killHard, spawnMamori } from './support/processes.js';

describe('mamori start', () => {
  it('runs the platform on embedded defaults with a generated local credential that agents can use', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'mamori-start-'));
    onTestFinished(() => rmSync(dataDir, { recursive: true, force: true }));
    const platform = await spawnMamori('start', { MAMORI_DATA_DIR: dataDir });
    onTestFinished(() => killHard(platform.child));

    const file = join(dataDir, 'agents.json');
    expect(statSync(file).mode & 0o077).toBe(0);
    const { agents } = JSON.parse(readFileSync(file, 'utf8')) as {
      agents: { token: string; tenant: string }[];
    };
    expect(agents[0]?.tenant).toBe('default');
    // The token is never written to the log.
    expect(platform.output.join('\n')).not.toContain(agents[0]!.token);

    const agent = connectAgent(`127.0.0.1:${platform.port}`, agents[0]!.token);
    onTestFinished(() => agent.close());
    expect((await agent.hello()).welcome).toMatchObject({
      tenant_id: 'default',
      agent_id: 'local',
    });
    agent.sendBatch(1, [execEvent()]);
    expect((await agent.ack(1)).status).toBe('ACK_STATUS_ACCEPTED');
    expect(statSync(join(dataDir, 'bus')).isDirectory()).toBe(true);
  });

  it('reports every configuration problem at once and exits non-zero', async () => {
    await expect(
      spawnMamori('ingest', {
        MAMORI_INGEST_PORT: 'not-a-port',
        MAMORI_BUS: 'carrier-pigeon',
        MAMORI_INGEST_TOKENS: '',
        MAMORI_INGEST_TOKENS_FILE: '',
      }),
    ).rejects.toThrow(/MAMORI_INGEST_PORT[\s\S]*MAMORI_BUS[\s\S]*MAMORI_INGEST_TOKENS/);
  });
});
