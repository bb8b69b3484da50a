import { describe, expect, it } from 'vitest';
import type { Event } from '@mamori/proto';
import { EventQueue } from '../../src/agent/event-queue.js';

const event = (id: string): Event => ({ id });
const ids = (events: Event[]) => events.map((e) => e.id);

describe('EventQueue', () => {
  it('drops low-priority events first when full, and counts every drop', () => {
    const queue = new EventQueue(3);
    queue.push(event('h1'), 'high');
    queue.push(event('l1'), 'low');
    queue.push(event('l2'), 'low');
    expect(queue.push(event('l3'), 'low')).toBe(false);
    expect(queue.push(event('h2'), 'high')).toBe(true);
    expect(queue.push(event('h3'), 'high')).toBe(true);
    expect(queue.push(event('h4'), 'high')).toBe(false);
    expect(queue.dropped).toEqual({ low: 3, high: 1 });
    expect(ids(queue.take(10))).toEqual(['h1', 'h2', 'h3']);
  });

  it('hands events over in arrival order, and drops the low ones when asked for high only', () => {
    const queue = new EventQueue(10);
    for (const [id, p] of [
      ['a', 'high'],
      ['b', 'low'],
      ['c', 'high'],
      ['d', 'low'],
    ] as const) {
      queue.push(event(id), p);
    }
    expect(ids(queue.take(2))).toEqual(['a', 'b']);
    expect(ids(queue.take(5, true))).toEqual(['c']);
    expect(queue.dropped).toEqual({ low: 1, high: 0 });
    expect(queue.size).toBe(0);
  });
});
