import { describe, expect, it } from 'vitest';
import { protoType, type Policy } from '@mamori/proto';
import { PolicyStore } from '../src/policy-store.js';

const type = protoType('mamori.v1.Policy');
const bytes = (p: Policy): Buffer => Buffer.from(type.encode(type.fromObject(p)).finish());
const key = (k: string): Buffer => Buffer.from(k);

describe('PolicyStore', () => {
  it('gives equal sets equal versions, whatever order their records came in', () => {
    const one = new PolicyStore();
    one.applyRecord(key('t/a'), bytes({ id: 'a', pod_labels: { x: '1', y: '2' } }));
    one.applyRecord(key('t/b'), bytes({ id: 'b', denied_processes: ['nc'] }));
    const two = new PolicyStore();
    two.applyRecord(key('t/b'), bytes({ id: 'b', denied_processes: ['nc'] }));
    two.applyRecord(key('t/a'), bytes({ id: 'a', pod_labels: { y: '2', x: '1' } }));
    expect(one.update('t').version).toBe(two.update('t').version);
    expect(one.update('t').policies?.map((p) => p.id)).toEqual(['a', 'b']);
    two.applyRecord(key('t/b'), bytes({ id: 'b', denied_processes: ['sh'] }));
    expect(two.update('t').version).not.toBe(one.update('t').version);
  });

  it('reports the tenants a batch changed, not one whose change the batch undid, and what it ignored', () => {
    const store = new PolicyStore();
    store.applyRecord(key('u/a'), bytes({ id: 'a', name: 'kept' }));
    const records = [
      { key: key('t/a'), value: bytes({ id: 'a' }), offset: 0 },
      { key: key('u/a'), value: bytes({ id: 'a', name: 'other' }), offset: 1 },
      { key: key('u/a'), value: bytes({ id: 'a', name: 'kept' }), offset: 2 },
      { key: key('nokey'), value: bytes({ id: 'x' }), offset: 3 },
    ];
    const { changed, ignored } = store.applyRecords(records);
    expect(changed).toEqual(['t']);
    expect(ignored).toEqual([{ offset: 3, reason: expect.stringContaining('<tenant>/') }]);
  });

  it('keeps the last record per key, and drops the key on a tombstone or an empty value', () => {
    const store = new PolicyStore();
    store.applyRecord(key('t/a'), bytes({ id: 'a', name: 'first' }));
    store.applyRecord(key('t/a'), bytes({ id: 'a', name: 'second' }));
    store.applyRecord(key('t/b'), bytes({ id: 'b' }));
    expect(store.update('t').policies?.map((p) => p.name)).toEqual(['second', '']);
    store.applyRecord(key('t/a'), bytes({ id: 'a', deleted: true }));
    store.applyRecord(key('t/b'), Buffer.alloc(0));
    expect(store.update('t')).toEqual({ version: '', policies: [] });
    expect(store.tenants()).toEqual([]);
  });

  it('ignores a record whose value names another tenant or policy than its key, or that is not a policy', () => {
    const store = new PolicyStore();
    expect(store.applyRecord(key('t/a'), bytes({ id: 'a', tenant_id: 'other' })).kind).toBe(
      'ignored',
    );
    expect(store.applyRecord(key('t/a'), bytes({ id: 'b' })).kind).toBe('ignored');
    expect(store.applyRecord(null, bytes({ id: 'a' })).kind).toBe('ignored');
    expect(store.applyRecord(key('/a'), bytes({ id: 'a' })).kind).toBe('ignored');
    expect(store.applyRecord(key('t/'), bytes({ id: 'a' })).kind).toBe('ignored');
    expect(store.applyRecord(key('t/a'), Buffer.from([0xff, 0xff, 0xff])).kind).toBe('ignored');
    expect(store.update('t').policies).toEqual([]);
    expect(store.update('other').policies).toEqual([]);
    // Tenant and id left empty in the value are taken from the key.
    store.applyRecord(key('t/a'), bytes({ name: 'x' }));
    expect(store.update('t').policies).toMatchObject([{ tenant_id: 't', id: 'a', name: 'x' }]);
  });
});
