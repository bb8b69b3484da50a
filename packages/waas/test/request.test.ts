import { describe, expect, it } from 'vitest';
import { extractValues, headersOf, toHttpRequest, type HttpRequest } from '../src/request.js';

function values(request: HttpRequest) {
  return extractValues(request)
    .values.filter((v) => v.location !== 'header.content-type')
    .map((v) => [v.location, v.kind, v.value]);
}

describe('extractValues', () => {
  it('takes the path, every query parameter (repeated names too), headers and cookies', () => {
    const got = values({
      method: 'GET',
      url: 'https://example.org/shop/items?id=1&tag=a+b&tag=c%20d&<x>=1',
      headers: {
        'User-Agent': 'Mozilla/5.0',
        'Content-Length': '0',
        Cookie: 'session=abc; theme="dark"',
        'X-Forwarded-For': ['10.0.0.1', '10.0.0.2'],
      },
    });
    expect(got).toEqual([
      ['path', 'path', '/shop/items'],
      ['query.id', 'query', '1'],
      ['query.tag', 'query', 'a b'],
      ['query.tag', 'query', 'c d'],
      ['query.<x>', 'query', '<x>'],
      ['query.<x>', 'query', '1'],
      ['header.user-agent', 'header', 'Mozilla/5.0'],
      ['cookie.session', 'cookie', 'abc'],
      ['cookie.theme', 'cookie', 'dark'],
      ['header.x-forwarded-for', 'header', '10.0.0.1'],
      ['header.x-forwarded-for', 'header', '10.0.0.2'],
    ]);
  });

  it('takes a lone unusual path segment without its slash, as a router hands it on', () => {
    expect(values({ method: 'GET', url: '/5%29%20or%20%28%271%27%3D%271' })).toEqual([
      ['path', 'path', "/5) or ('1'='1"],
      ['path', 'path', "5) or ('1'='1"],
    ]);
    expect(values({ method: 'GET', url: '/about-us' })).toEqual([['path', 'path', '/about-us']]);
  });

  it('inspects a base64 path segment decoded, and leaves ids, slugs and words alone', () => {
    const b64 = (text: string) => Buffer.from(text).toString('base64url');
    expect(values({ method: 'GET', url: `/${b64("1' or sleep(3)#")}` })).toEqual([
      ['path', 'path', `/${b64("1' or sleep(3)#")}`],
      ['path', 'path', "1' or sleep(3)#"],
    ]);
    expect(
      values({ method: 'GET', url: `/share/${b64('<img src=x onerror=alert(1)>')}/v2` }),
    ).toContainEqual(['path', 'path', '<img src=x onerror=alert(1)>']);
    for (const url of [
      '/api/v1/customers/550e8400-e29b-41d4-a716-446655440000',
      '/blog/2024/an-introduction-to-rust',
      '/assets/main.3f9a1c2b7d4e.js',
      '/users/AbCdEfGhIjKlMnOp/settings',
      `/i18n/${b64('hello world')}`, // text without syntax: an id, not a payload
    ]) {
      expect(values({ method: 'GET', url }), url).toEqual([['path', 'path', url]]);
    }
  });

  it('reads base64 whose + a form decoder turned into spaces', () => {
    // base64 of `<svg/onload=alert(1)>?`: its `+` is a space once the query is decoded.
    const encoded = Buffer.from('<svg/onload=alert(1)>?').toString('base64');
    expect(encoded).toContain('+');
    expect(values({ method: 'GET', url: `/?q=${encoded}` })).toContainEqual([
      'query.q',
      'query',
      '<svg/onload=alert(1)>?',
    ]);
    expect(values({ method: 'GET', url: '/?q=red+green+blue+and+more' })).toEqual([
      ['query.q', 'query', 'red green blue and more'],
    ]);
  });

  it('takes JSON string values at their path and keys as json-key values', () => {
    const got = values({
      method: 'POST',
      url: '/api',
      headers: { 'content-type': 'application/json' },
      body: '{"a":{"b":["x",1,{"c":"y"}]},"__proto__":{"admin":true}}',
    });
    expect(got).toEqual([
      ['path', 'path', '/api'],
      ['body.a', 'json-key', 'a'],
      ['body.a.b', 'json-key', 'b'],
      ['body.a.b[0]', 'body', 'x'],
      ['body.a.b[2].c', 'json-key', 'c'],
      ['body.a.b[2].c', 'body', 'y'],
      ['body.__proto__', 'json-key', '__proto__'],
      ['body.__proto__.admin', 'json-key', 'admin'],
    ]);
  });

  it('inspects malformed JSON and broken multipart as text', () => {
    expect(
      values({
        method: 'POST',
        url: '/',
        headers: { 'content-type': 'application/json' },
        body: '{"a":',
      }),
    ).toEqual([['body', 'body', '{"a":']]);
    expect(
      values({
        method: 'POST',
        url: '/',
        headers: { 'content-type': 'multipart/form-data; boundary=B' },
        body: 'no boundary here',
      }),
    ).toEqual([['body', 'body', 'no boundary here']]);
  });

  it('splits fields at &, but not at an & with raw blanks on both sides', () => {
    expect(values({ method: 'GET', url: '/?a=1 && b&c=2&d=x &e=y& z' })).toEqual([
      ['query.a', 'query', '1 && b'],
      ['query.c', 'query', '2'],
      ['query.d', 'query', 'x '],
      ['query.e', 'query', 'y'],
      ['query. z', 'query', ' z'],
    ]);
  });

  it('takes URL-encoded form fields, multipart fields and file names', () => {
    expect(
      values({
        method: 'POST',
        url: '/',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'name=J+Doe&q=%27',
      }),
    ).toEqual([
      ['body.name', 'body', 'J Doe'],
      ['body.q', 'body', "'"],
    ]);
    const multipart =
      '--B\r\nContent-Disposition: form-data; name="title"\r\n\r\nhello\r\n' +
      '--B\r\nContent-Disposition: form-data; name="file"; filename="../../x.php"\r\n' +
      'Content-Type: image/png\r\n\r\n\x89PNG\r\n--B--\r\n';
    expect(
      values({
        method: 'POST',
        url: '/',
        headers: { 'content-type': 'multipart/form-data; boundary="B"' },
        body: multipart,
      }),
    ).toEqual([
      ['body.title', 'body', 'hello'],
      ['body.file.filename', 'body', '../../x.php'],
    ]);
  });

  it('takes a multipart field name that is not a plain identifier as a value', () => {
    const part = (name: string) =>
      `--B\r\nContent-Disposition: form-data; name="${name}"\r\n\r\nv\r\n`;
    const got = values({
      method: 'POST',
      url: '/',
      headers: { 'content-type': 'multipart/form-data; boundary=B' },
      body:
        part('../../../var/www/shell.php') +
        part('items[0][title]') +
        part('user.e-mail') +
        '--B--\r\n',
    });
    expect(got).toEqual([
      ['body.../../../var/www/shell.php', 'body', '../../../var/www/shell.php'],
      ['body.../../../var/www/shell.php', 'body', 'v'],
      ['body.items[0][title]', 'body', 'v'],
      ['body.user.e-mail', 'body', 'v'],
    ]);
  });

  it('takes XML text and attribute values, and keeps the raw XML for the XXE check', () => {
    const body = '<?xml version="1.0"?><a id="1&amp;2"><b>x &lt; y</b><![CDATA[<c>]]></a>';
    const extracted = extractValues({
      method: 'POST',
      url: '/',
      headers: { 'content-type': 'application/xml' },
      body,
    });
    const got = extracted.values.filter((v) => v.kind === 'body');
    expect(got.map((v) => [v.location, v.value])).toEqual([
      ['body.a@id', '1&2'],
      ['body.b', 'x < y'],
      ['body.b', '<c>'],
    ]);
    expect(extracted.rawXml?.value).toBe(body);
  });

  it('decodes XML text as the parser does, then as any value: escaped twice reads as once', () => {
    const got = extractValues({
      method: 'POST',
      url: '/',
      headers: { 'content-type': 'text/xml' },
      body: '<r><q>&amp;#39; or &amp;lt;b&amp;gt;</q><c><![CDATA[&amp;]]></c><t>Tom &amp; Jerry</t></r>',
    }).values.filter((v) => v.kind === 'body');
    expect(got.map((v) => [v.location, v.value])).toEqual([
      ['body.q', "' or <b>"],
      ['body.c', '&'],
      ['body.t', 'Tom & Jerry'],
    ]);
  });

  it('reads an untyped body that is one element both as text and as XML', () => {
    expect(values({ method: 'POST', url: '/', body: '<amount>5 or 1=1</amount>' })).toEqual([
      ['body', 'body', '<amount>5 or 1=1</amount>'],
      ['body.amount', 'body', '5 or 1=1'],
    ]);
    expect(
      values({
        method: 'POST',
        url: '/',
        headers: { 'content-type': 'text/html' },
        body: '<p>hello</p>',
      }),
    ).toEqual([['body', 'body', '<p>hello</p>']]);
  });

  it('inspects only the first bodyLimit bytes and says so', () => {
    const extracted = extractValues(
      { method: 'POST', url: '/', headers: {}, body: 'a'.repeat(100) },
      { bodyLimit: 10 },
    );
    expect(extracted.bodyTruncated).toBe(true);
    expect(extracted.values[0]?.value).toBe('a'.repeat(10));
  });

  it('reads a base64 body', () => {
    const body = Buffer.from('x=%3Cb%3E').toString('base64');
    expect(
      values({
        method: 'POST',
        url: '/',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body,
        bodyEncoding: 'base64',
      }),
    ).toEqual([['body.x', 'body', '<b>']]);
  });
});

describe('toHttpRequest', () => {
  it('names the field that is wrong', () => {
    expect(toHttpRequest([])).toEqual({ error: 'not a JSON object' });
    expect(toHttpRequest({ method: 'GET' })).toEqual({ error: 'url: missing or not a string' });
    expect(toHttpRequest({ url: '/', headers: { a: 1 } })).toEqual({
      error: 'headers.a: not a string or a list of strings',
    });
    expect(toHttpRequest({ url: '/', body: 'x' })).toEqual({
      method: 'GET',
      url: '/',
      headers: {},
      body: 'x',
      bodyEncoding: 'utf8',
    });
  });
});

describe('headersOf', () => {
  it('makes a request’s headers from pairs: names lower-cased, repeats as arrays, __proto__ a header', () => {
    const headers = headersOf([
      ['Host', 'portal.example.gov'],
      ['X-Forwarded-For', '10.0.0.1'],
      ['x-forwarded-for', '10.0.0.2'],
      ['__proto__', 'x'],
    ]);
    expect(headers).toEqual({
      host: 'portal.example.gov',
      'x-forwarded-for': ['10.0.0.1', '10.0.0.2'],
      ['__proto__']: 'x',
    });
    expect(Object.getPrototypeOf(headers)).toBe(Object.prototype);
  });
});
