import { describe, expect, it } from 'vitest';
import { serverJsCheck } from '../../src/checks/server-js.js';
import type { InspectedValue } from '../../src/types.js';

function confidence(value: string): number {
  const v: InspectedValue = { location: 'query.q', value, raw: value, name: 'q', kind: 'query' };
  return serverJsCheck.inspect(v, 1).reduce((max, f) => Math.max(max, f.confidence), 0);
}

describe('serverJsCheck', () => {
  it.each([
    '1; while(true){}',
    "'; var t = new Date(); while(new Date() - t < 5000){}; '",
    '0; sleep(3000)',
    "x'; return true; var z='",
    '"; db.getSiblingDB(\'admin\').runCommand({listDatabases:1}); "',
    'db.accounts.deleteMany({})',
    '  db.sessions.drop()',
    '0;for(let i=0;;i++){}',
    '2) ; const s = db.users.findOne({}); do{ }while(s)',
    '7; return false',
    "' && this.secret.match(/^a/)//",
    '5 || this.role == "admin"',
    'x" && this.credits > 0 && "1',
    "x';return 'b'=='b' && ''=='",
    '"; return this.role != "" ; "',
  ])('finds server-side JavaScript in %j', (payload) => {
    expect(confidence(payload)).toBeGreaterThanOrEqual(0.9);
  });

  it.each([
    'Step 1; for (each item) check the box',
    'Items bought; return within 30 days',
    'I was late; let me explain',
    'a; let x = 5',
    'Use db.users.find() to list them; it returns a cursor',
    'Mon-Fri; while (you wait) read this',
    '今日は晴れ; 明日は雨',
    'let total = 0; for (const p of prices) { total += p; }',
    'for (const x of list) { console.log(x); }',
    '{"name":"Ada","tags":["a;b"]}',
    "O'Reilly; do you stock it?",
    'Items bought; return = refund in 30 days',
    'use this.props && this.state in React',
    'if (a && this.b) { go(); }',
    'me && this.team',
    'Day 1; return true to form',
    'Read it; return it by Friday, then rate it == good',
  ])('leaves %j alone', (text) => {
    expect(confidence(text)).toBe(0);
  });

  it('reads long hostile input without failing', () => {
    const hostile = ';'.repeat(50_000) + 'for('.repeat(50_000);
    expect(() => confidence(hostile)).not.toThrow();
  });
});
