import { describe, expect, it } from 'vitest';
import { createInspector } from '../src/inspect.js';
import type { Detector } from '../src/types.js';

/** A detector that reports `word` wherever it appears, with a fixed confidence. */
function wordDetector(word: string, confidence: number): Detector {
  return {
    name: `word-${word}`,
    categories: ['sqli'],
    inspect: (value) =>
      value.value.includes(word)
        ? [
            {
              category: 'sqli',
              location: value.location,
              evidence: word,
              confidence,
              reason: 'word',
            },
          ]
        : [],
  };
}

const get = (url: string) => ({ method: 'GET', url, headers: {} });

describe('createInspector', () => {
  it('allows, alerts and blocks by weight × confidence against the thresholds', () => {
    const inspector = createInspector({ detectors: [wordDetector('bad', 0.6)] });
    expect(inspector.inspect(get('/?a=fine'))).toEqual({ action: 'allow', score: 0, findings: [] });
    expect(inspector.inspect(get('/?a=bad'))).toMatchObject({ action: 'alert', score: 3.6 });
    expect(inspector.inspect(get('/?a=bad&b=bad'))).toMatchObject({ action: 'block', score: 7.2 });
  });

  it('counts one finding per category and location, the most confident', () => {
    const inspector = createInspector({
      detectors: [wordDetector('bad', 0.6), wordDetector('ba', 0.4)],
    });
    const verdict = inspector.inspect(get('/?a=bad&a=bad'));
    expect(verdict.findings).toHaveLength(1);
    expect(verdict.score).toBe(3.6);
  });

  it('skips excepted locations for all categories or only the named ones, under a path', () => {
    const detectors = [wordDetector('bad', 1)];
    const all = createInspector({ detectors, exceptions: [{ location: 'query.html' }] });
    expect(all.inspect(get('/?html=bad')).action).toBe('allow');
    expect(all.inspect(get('/?other=bad')).action).toBe('block');
    const some = createInspector({
      detectors,
      exceptions: [{ locationPrefix: 'query.h', categories: ['xss'] }],
    });
    expect(some.inspect(get('/?html=bad')).action).toBe('block');
    const underPath = createInspector({
      detectors,
      exceptions: [{ locationPrefix: 'query.', pathPrefix: '/editor/', categories: ['sqli'] }],
    });
    expect(underPath.inspect(get('/editor/save?html=bad')).action).toBe('allow');
    expect(underPath.inspect(get('/search?html=bad')).action).toBe('block');
  });

  it('honours custom thresholds', () => {
    const inspector = createInspector({
      detectors: [wordDetector('bad', 0.6)],
      thresholds: { alert: 1, block: 2 },
    });
    expect(inspector.inspect(get('/?a=bad')).action).toBe('block');
  });

  it('goes on when a detector throws', () => {
    const broken: Detector = {
      name: 'broken',
      categories: ['xss'],
      inspect: () => {
        throw new Error('bug');
      },
    };
    const inspector = createInspector({ detectors: [broken, wordDetector('bad', 1)] });
    expect(inspector.inspect(get('/?a=bad')).action).toBe('block');
  });

  it('reports an over-long body as a protocol finding only when configured', () => {
    const request = { method: 'POST', url: '/', headers: {}, body: 'x'.repeat(50) };
    expect(createInspector({ bodyLimit: 10 }).inspect(request).findings).toEqual([]);
    const reporting = createInspector({ bodyLimit: 10, reportUninspected: true });
    expect(reporting.inspect(request)).toMatchObject({
      action: 'alert',
      findings: [{ category: 'protocol', location: 'body' }],
    });
  });

  it('refuses a paranoia level or thresholds that mean nothing', () => {
    expect(() => createInspector({ paranoia: 5 as 1 })).toThrow(RangeError);
    expect(() => createInspector({ thresholds: { alert: 5, block: 3 } })).toThrow(RangeError);
  });

  it('runs the XXE check on the raw XML of an XML body', () => {
    const verdict = createInspector({ detectors: [] }).inspect({
      method: 'POST',
      url: '/',
      headers: { 'content-type': 'text/xml' },
      body: '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>',
    });
    expect(verdict).toMatchObject({ action: 'block', findings: [{ category: 'xxe' }] });
  });

  describe('values a form encoder produced, outside a query string', () => {
    const inspector = createInspector();
    const multipart = (value: string) => ({
      method: 'POST',
      url: '/upload',
      headers: { 'content-type': 'multipart/form-data; boundary=b0' },
      body: `--b0\r\nContent-Disposition: form-data; name="note"\r\n\r\n${value}\r\n--b0--\r\n`,
    });

    it('reads + as a space where the application form-decodes a path, header or body field', () => {
      const stacked = '7%3B+DECLARE+%40v+int%3B+EXEC+master..xp_dirtree+%40v';
      expect(inspector.inspect(get(`/orders/${stacked}`)).action).toBe('block');
      expect(
        inspector.inspect({ method: 'GET', url: '/', headers: { 'x-order-id': stacked } }).action,
      ).toBe('block');
      expect(inspector.inspect(multipart('x%27%29+or+2%3E1+--+')).action).toBe('block');
      expect(inspector.inspect(get('/items/9+or+sleep(4)')).action).toBe('block');
      expect(
        inspector.inspect({
          method: 'POST',
          url: '/api',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ id: '4+AND+SLEEP%285%29' }),
        }).action,
      ).toBe('block');
    });

    it('reads a double-encoded form value with its %2B as spaces', () => {
      expect(
        inspector.inspect(get('/?id=-3%2B%2F%2A%21%2555nion%2A%2F%2B%2F%2A%21select%2A%2F%2B1%2C2'))
          .action,
      ).toBe('block');
    });

    it('leaves form-encoded prose, tokens and MIME types alone', () => {
      for (const text of [
        'Dear+Ana%2C--I+think+it+will+do%3B+copy+goes+out+by+the+second+post',
        'Our+guide+was+a+poet%3B+more+than+that%2C+she+knew+every+trail',
        'Tom+%26+Jerry%3A+select+episodes+%28or+all%29',
        'O%27Brien+and+O%27Neill',
        '%E6%9D%B1%E4%BA%AC%E3%81%AE+%E5%A4%A9%E6%B0%97',
        // Read with literal pluses these are arithmetic on a subquery; no application does.
        'the+select+was+a+great+union%21',
        'the+select+was+a+great+union',
        'tip%3Dselect+a+seat+and+pay+at+the+desk',
      ]) {
        expect(inspector.inspect(multipart(text)).action, text).toBe('allow');
        expect(inspector.inspect(get(`/notes/${text}`)).action, text).toBe('allow');
      }
      expect(
        inspector.inspect({
          method: 'GET',
          url: '/',
          headers: {
            accept: 'application/vnd.api+json',
            'x-token': 'q8+Zr3/Kk0%3D%3D',
          },
        }).action,
      ).toBe('allow');
    });
  });

  describe('URL-encoded bodies written by hand', () => {
    const inspector = createInspector();
    const form = (body: string) => ({
      method: 'POST',
      url: '/tools/ping',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body,
    });

    it('reads an & with blanks around it as text, as a shell would, not as a separator', () => {
      expect(inspector.inspect(form('host=10.0.0.8 && cat /etc/shadow')).action).toBe('block');
      expect(inspector.inspect(form('host=example.org & net user x /add')).action).toBe('block');
      // Written by a form encoder, `&` only separates fields and each field is clean.
      expect(inspector.inspect(form('host=10.0.0.8&cat=%2Fetc')).action).toBe('allow');
    });

    it('leaves hand-written bodies of ordinary text alone', () => {
      for (const body of [
        'name=John Smith&comment=I like it & you too',
        "q=O'Brien & Sons (Dublin)&page=2",
        'msg=select the best or the worst&lang=en',
        'note=東京 タワー&when=next week',
        'data={"a": 1, "b": [1, 2]}&format=json',
        'email=ana.lopez@example.org&subject=Re: order #42 | shipping',
      ]) {
        expect(inspector.inspect(form(body)).action, body).toBe('allow');
      }
    });
  });

  describe('bodies sent as XML that are not XML', () => {
    const inspector = createInspector();
    const xml = (body: string) => ({
      method: 'POST',
      url: '/feed',
      headers: { 'content-type': 'text/xml' },
      body,
    });

    it('reads markup with unquoted attribute values as text, where its tags count', () => {
      expect(inspector.inspect(xml('<img src=x onerror=alert(1)>')).action).toBe('block');
      expect(inspector.inspect(xml('"><svg onload=confirm(9)>')).action).toBe('block');
    });

    it('leaves well-formed XML and plain HTML-like text alone', () => {
      expect(
        inspector.inspect(xml('<note to="Ana">select the best or the worst</note>')).action,
      ).toBe('allow');
      expect(inspector.inspect(xml('<p class=intro>Hello, <b>world</b></p>')).action).toBe('allow');
    });
  });
});
