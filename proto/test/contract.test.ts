import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROTO_ROOT, createEventCodec, loadMamoriGrpc, type Event } from '../src/index.js';

function listFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? listFiles(path) : [path];
  });
}

describe('the contract', () => {
  it('round-trips an event through the bus codec with the gRPC object shape', () => {
    const codec = createEventCodec();
    const event: Event = {
      id: '01J9ZEVENT',
      tenant_id: 'city-a',
      agent_id: 'node-1',
      observed_unix_micros: 1_764_000_000_123_456,
      host: { hostname: 'node-1', addresses: ['10.0.0.5'] },
      workload: {
        container_id: 'abc123',
        image_repository: 'registry.gov/portal',
        image_digest: 'sha256:00',
      },
      labels: { sensor: 'proc' },
      process_exec: {
        process: {
          pid: 4242,
          ppid: 1,
          name: 'curl',
          exe: '/usr/bin/curl',
          args: ['curl', '-s', 'http://x'],
          uid: 0,
        },
      },
    };
    const decoded = codec.decode(codec.encode(event));
    expect(decoded.payload).toBe('process_exec');
    expect(decoded.observed_unix_micros).toBe(1_764_000_000_123_456);
    expect(decoded.process_exec?.process?.args).toEqual(['curl', '-s', 'http://x']);
    expect(decoded.labels).toEqual({ sensor: 'proc' });
    expect(decoded.file_open).toBeFalsy();
    expect(decoded.workload?.image_digest).toBe('sha256:00');
  });

  it('encodes enums by name and decodes them back to names', () => {
    const codec = createEventCodec();
    const decoded = codec.decode(
      codec.encode({
        id: 'e1',
        network_connect: {
          connection: { protocol: 'L4_PROTOCOL_TCP', remote_address: '1.2.3.4', remote_port: 443 },
        },
      }),
    );
    expect(decoded.network_connect?.connection?.protocol).toBe('L4_PROTOCOL_TCP');
  });

  it('refuses bytes that are not an Event', () => {
    const codec = createEventCodec();
    expect(() => codec.decode(Buffer.from([0x0a, 0x0a, 0x41, 0x42]))).toThrow();
  });

  it('loads the defender service with its bidirectional Connect method', () => {
    const grpcTypes = loadMamoriGrpc();
    const connect = grpcTypes.mamori.v1.DefenderService.service.Connect;
    expect(connect.requestStream).toBe(true);
    expect(connect.responseStream).toBe(true);
    expect(connect.path).toBe('/mamori.v1.DefenderService/Connect');
  });

  it('has generated types that match the .proto files', () => {
    const out = mkdtempSync(join(tmpdir(), 'mamori-proto-'));
    try {
      const script = JSON.parse(readFileSync(join(PROTO_ROOT, 'package.json'), 'utf8')) as {
        scripts: { generate: string };
      };
      const args = script.scripts.generate
        .split(' ')
        .slice(1)
        .map((arg) => (arg === 'src/generated' ? out : arg));
      execFileSync(join(PROTO_ROOT, '..', 'node_modules', '.bin', 'proto-loader-gen-types'), args, {
        cwd: PROTO_ROOT,
      });
      const committed = join(PROTO_ROOT, 'src', 'generated');
      const fresh = listFiles(out)
        .map((f) => relative(out, f))
        .sort();
      expect(fresh).toEqual(
        listFiles(committed)
          .map((f) => relative(committed, f))
          .sort(),
      );
      for (const file of fresh) {
        expect(readFileSync(join(out, file), 'utf8'), file).toBe(
          readFileSync(join(committed, file), 'utf8'),
        );
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
