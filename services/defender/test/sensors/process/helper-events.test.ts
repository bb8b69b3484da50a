import { describe, expect, it } from 'vitest';
import { LineSplitter, parseHelperLine } from '../../../src/sensors/process/index.js';

describe('LineSplitter', () => {
  it('joins lines across chunks and drops a line longer than the bound', () => {
    const lines: string[] = [];
    const splitter = new LineSplitter(8, (l) => lines.push(l));
    splitter.push(Buffer.from('ab'));
    splitter.push(Buffer.from('c\n0123456789'));
    splitter.push(Buffer.from('abc\nok\n'));
    expect(lines).toEqual(['abc', 'ok']);
    expect(splitter.overlong).toBe(1);
  });
});

describe('parseHelperLine', () => {
  it('reads exec lines into a snapshot', () => {
    const event = parseHelperLine(
      JSON.stringify({
        e: 'exec',
        pid: 5,
        t: 1,
        args: ['a', 'b'],
        exe: null,
        cwd: '/',
        stat: '5 (a) R 1',
        uid: 0,
        gid: 0,
        cap_eff: '00000000000000ff',
        login_uid: -1,
        fd: ['pipe:[1]', '', ''],
        mnt_ns: 'mnt:[1]',
      }),
    );
    expect(event).toMatchObject({
      e: 'exec',
      t: 1,
      snapshot: {
        pid: 5,
        args: ['a', 'b'],
        exe: '',
        cwd: '/',
        capEffective: 255,
        fdLinks: ['pipe:[1]', '', ''],
      },
    });
  });

  it("keeps the program file's identity when it is one, and only then", () => {
    const exec = (exeId: unknown) =>
      parseHelperLine(JSON.stringify({ e: 'exec', pid: 5, t: 1, exe: '/bin/x', exe_id: exeId }));
    const id = '65024:260958:35664:1663687647000000000:1663687647000000000';
    expect(exec(id)).toMatchObject({ snapshot: { exeIdentity: id } });
    for (const bad of ['1:2:3:4', '1:2:3:4:x', `${id}:9`, 7, null]) {
      const parsed = exec(bad);
      // Still an exec, without an identity.
      expect(parsed?.e === 'exec' ? parsed.snapshot : undefined).toMatchObject({ exe: '/bin/x' });
      expect(parsed?.e === 'exec' ? parsed.snapshot.exeIdentity : 'not an exec').toBeUndefined();
    }
  });

  it('rejects what is not an event', () => {
    expect(parseHelperLine('{"e":"exit"}')).toBeUndefined();
    expect(parseHelperLine('not json')).toBeUndefined();
    expect(parseHelperLine('{"e":"lost","count":3}')).toEqual({
      e: 'lost',
      count: 3,
      reason: 'kernel',
    });
    expect(parseHelperLine('{"e":"lost","count":2,"reason":"queue"}')).toEqual({
      e: 'lost',
      count: 2,
      reason: 'queue',
    });
  });
});
