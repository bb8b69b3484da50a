import { describe, expect, it } from 'vitest';
import { isMamoriError } from '@mamori/common';
import { BINARY_OPERATORS } from '../../src/falco/ast.js';
import { parseCondition, parseFieldExpression } from '../../src/falco/parser.js';

function syntaxErrorOf(text: string): { message: string; position: unknown } {
  try {
    parseCondition(text);
  } catch (err) {
    if (isMamoriError(err, 'MAMORI_RULE_SYNTAX')) {
      return { message: err.message, position: err.context.position };
    }
    throw err;
  }
  throw new Error(`parsed: ${text}`);
}

describe('parseCondition', () => {
  it('binds not tighter than and, and and tighter than or', () => {
    expect(parseCondition('proc.name = a or proc.name = b and not proc.pid = 1')).toEqual({
      type: 'or',
      children: [
        expect.objectContaining({
          type: 'check',
          op: '=',
          field: expect.objectContaining({ name: 'proc.name' }),
        }),
        {
          type: 'and',
          children: [
            expect.objectContaining({ type: 'check' }),
            { type: 'not', child: expect.objectContaining({ type: 'check', op: '=' }) },
          ],
        },
      ],
    });
  });

  it('lets parentheses override precedence', () => {
    const node = parseCondition('(proc.name = a or proc.name = b) and proc.pid = 1');
    expect(node).toMatchObject({ type: 'and', children: [{ type: 'or' }, { type: 'check' }] });
  });

  it.each(BINARY_OPERATORS.filter((op) => !['in', 'intersects', 'pmatch'].includes(op)))(
    'parses the operator %s with a value',
    (op) => {
      expect(parseCondition(`fd.name ${op} /etc/x`)).toMatchObject({
        type: 'check',
        op,
        operand: { kind: 'literal', value: { text: '/etc/x', quoted: false } },
      });
    },
  );

  it.each(['in', 'intersects', 'pmatch'])('parses the operator %s with a list', (op) => {
    expect(parseCondition(`fd.name ${op} (/etc, "a b", 'c')`)).toMatchObject({
      op,
      operand: {
        kind: 'list',
        items: [
          { text: '/etc', quoted: false },
          { text: 'a b', quoted: true },
          { text: 'c', quoted: true },
        ],
      },
    });
  });

  it('parses symbolic operators written against their operands', () => {
    expect(parseCondition('evt.dir=<')).toMatchObject({
      op: '=',
      operand: { value: { text: '<' } },
    });
    expect(parseCondition('proc.pid>=10')).toMatchObject({
      op: '>=',
      operand: { value: { text: '10' } },
    });
    expect(parseCondition('proc.name!=sshd')).toMatchObject({ op: '!=' });
    expect(parseCondition('fd.num<0')).toMatchObject({ op: '<' });
  });

  it('parses exists, macros, field arguments and empty lists', () => {
    expect(parseCondition('proc.pname exists and not my_macro')).toMatchObject({
      type: 'and',
      children: [
        { type: 'check', op: 'exists' },
        { type: 'not', child: { type: 'macro', name: 'my_macro' } },
      ],
    });
    expect(parseCondition('proc.aname[2] = sshd')).toMatchObject({
      field: { name: 'proc.aname', arg: '2' },
    });
    expect(parseCondition('k8s.pod.label[app.kubernetes.io/name] = web')).toMatchObject({
      field: { name: 'k8s.pod.label', arg: 'app.kubernetes.io/name' },
    });
    expect(parseCondition('proc.name in ()')).toMatchObject({
      operand: { kind: 'list', items: [] },
    });
  });

  it('parses transformers, nested, and val() on the right', () => {
    expect(parseCondition('toupper(basename(fd.name)) = PASSWD')).toMatchObject({
      field: { name: 'fd.name', transformers: ['toupper', 'basename'] },
    });
    expect(parseCondition('len(proc.args) > 10')).toMatchObject({
      field: { transformers: ['len'] },
    });
    expect(parseCondition('proc.name = val(proc.pname)')).toMatchObject({
      operand: { kind: 'field', field: { name: 'proc.pname' } },
    });
  });

  it('reads bare values up to white space, commas and parentheses', () => {
    expect(parseCondition('proc.pname in (runc:[0:PARENT], docker-runc)')).toMatchObject({
      operand: { items: [{ text: 'runc:[0:PARENT]' }, { text: 'docker-runc' }] },
    });
    expect(parseCondition('(proc.name=chef-client)')).toMatchObject({
      operand: { value: { text: 'chef-client' } },
    });
  });

  it('unescapes quotes and backslashes only, so regexes keep their escapes', () => {
    expect(parseCondition(String.raw`proc.cmdline = "say \"hi\" \\ ok"`)).toMatchObject({
      operand: { value: { text: 'say "hi" \\ ok' } },
    });
    expect(parseCondition(String.raw`fd.name regex '.*\.sh'`)).toMatchObject({
      operand: { value: { text: String.raw`.*\.sh` } },
    });
  });

  it('does not take a keyword inside a name for an operator', () => {
    expect(parseCondition('proc.name = android or notes_macro')).toMatchObject({
      type: 'or',
      children: [
        { operand: { value: { text: 'android' } } },
        { type: 'macro', name: 'notes_macro' },
      ],
    });
  });

  it.each([
    ['proc.name = ', 'expected a value', 12],
    ['proc.name in bash', 'needs a list', 13],
    ['proc.name = "open', 'unterminated string', 12],
    ['(proc.name = a', "missing ')'", 14],
    ['proc.name bogus x', 'expected an operator', 10],
    ['shout(proc.name) = a', 'unknown transformer', 0],
    ['proc.name = a b', "unexpected 'b'", 14],
    ['proc.name in (a b)', "expected ',' or ')'", 16],
    ['and proc.name = a', "unexpected 'and'", 0],
  ])('reports %j as a syntax error at its position', (text, message, position) => {
    const err = syntaxErrorOf(text);
    expect(err.message).toContain(message);
    expect(err.position).toBe(position);
    expect(err.message).toContain(`column ${position + 1}`);
  });

  it('refuses nesting deep enough to exhaust the stack instead of crashing', () => {
    expect(
      syntaxErrorOf(`${'('.repeat(100_000)}proc.name = a${')'.repeat(100_000)}`).message,
    ).toContain('nested too deeply');
    expect(syntaxErrorOf(`${'not '.repeat(100_000)}proc.name = a`).message).toContain(
      'nested too deeply',
    );
  });

  it('parses a long condition in one pass', () => {
    const text = Array.from({ length: 20_000 }, (_, i) => `proc.name = p${i}`).join(' or ');
    const node = parseCondition(text);
    expect(node).toMatchObject({ type: 'or' });
    expect(node.type === 'or' && node.children.length).toBe(20_000);
  });
});

describe('parseFieldExpression', () => {
  it('parses one field with transformers and refuses trailing text', () => {
    expect(parseFieldExpression('tolower(proc.name)')).toMatchObject({
      name: 'proc.name',
      transformers: ['tolower'],
    });
    expect(() => parseFieldExpression('proc.name = x')).toThrow(/after field/);
  });
});
