import { describe, expect, it } from 'vitest';
import { isMamoriError } from '@mamori/common';
import { parseCondition } from '../../src/sigma/condition.js';

function fault(condition: string): unknown {
  try {
    parseCondition(condition);
  } catch (err) {
    return isMamoriError(err) ? err.context.fault : err;
  }
  return undefined;
}

describe('parseCondition', () => {
  it('binds not tighter than and, and tighter than or', () => {
    expect(parseCondition('a or b and not c')).toEqual({
      type: 'or',
      operands: [
        { type: 'ref', name: 'a' },
        {
          type: 'and',
          operands: [
            { type: 'ref', name: 'b' },
            { type: 'not', operand: { type: 'ref', name: 'c' } },
          ],
        },
      ],
    });
  });

  it('groups with parentheses', () => {
    expect(parseCondition('(a or b) and c')).toEqual({
      type: 'and',
      operands: [
        {
          type: 'or',
          operands: [
            { type: 'ref', name: 'a' },
            { type: 'ref', name: 'b' },
          ],
        },
        { type: 'ref', name: 'c' },
      ],
    });
  });

  it('reads quantifiers over selection patterns and them', () => {
    expect(parseCondition('1 of sel_*')).toEqual({ type: 'of', quantity: 1, target: 'sel_*' });
    expect(parseCondition('all of them')).toEqual({ type: 'of', quantity: 'all', target: 'them' });
    expect(parseCondition('not 1 of filter*')).toEqual({
      type: 'not',
      operand: { type: 'of', quantity: 1, target: 'filter*' },
    });
  });

  it('accepts keywords in any case', () => {
    expect(parseCondition('a AND NOT b')).toEqual({
      type: 'and',
      operands: [
        { type: 'ref', name: 'a' },
        { type: 'not', operand: { type: 'ref', name: 'b' } },
      ],
    });
  });

  it('reports syntax errors as invalid', () => {
    for (const bad of ['', 'a and', '(a or b', 'a b', 'and a', 'x of sel', 'a )', '1 of']) {
      expect(fault(bad), bad).toBe('invalid');
    }
  });

  it('reports aggregations and near as unsupported', () => {
    expect(fault('selection | count() by User > 5')).toBe('unsupported');
    expect(fault('selection and near other')).toBe('unsupported');
  });
});
