import { describe, expect, it } from 'vitest';
import { detectBot } from '../../src/traffic/bots.js';
import type { HttpRequest } from '../../src/request.js';

const CHROME_WIN =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36';
const FIREFOX_LINUX = 'Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0';
const SAFARI_IPHONE =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1';
const CHROME_ANDROID =
  'Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36';

/** Headers a real Chrome 124 on Windows sends on a navigation. */
const chromeHeaders = {
  'User-Agent': CHROME_WIN,
  Accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8',
  'Accept-Language': 'ja-JP,ja;q=0.9,en-US;q=0.8',
  'sec-ch-ua': '"Chromium";v="124", "Google Chrome";v="124", "Not-A.Brand";v="99"',
  'sec-ch-ua-mobile': '?0',
  'sec-ch-ua-platform': '"Windows"',
};
const browserAccept = { Accept: '*/*', 'Accept-Language': 'en-US,en;q=0.5' };

const req = (headers: Record<string, string>): HttpRequest => ({
  method: 'GET',
  url: '/',
  headers,
});
const kinds = (headers: Record<string, string>) =>
  detectBot(req(headers)).map((f) => [f.kind, f.bot]);

describe('detectBot', () => {
  it('leaves real browsers with their usual headers alone', () => {
    expect(detectBot(req(chromeHeaders))).toEqual([]);
    expect(detectBot(req({ 'User-Agent': FIREFOX_LINUX, ...browserAccept }))).toEqual([]);
    expect(detectBot(req({ 'User-Agent': SAFARI_IPHONE, ...browserAccept }))).toEqual([]);
    expect(
      detectBot(
        req({
          'User-Agent': CHROME_ANDROID,
          ...browserAccept,
          'sec-ch-ua': '"Chromium";v="124", "Google Chrome";v="124", "Not-A.Brand";v="99"',
          'sec-ch-ua-mobile': '?1',
          'sec-ch-ua-platform': '"Android"',
        }),
      ),
    ).toEqual([]);
  });

  it('names HTTP libraries and command-line clients by their default user agents', () => {
    const cases: [string, string][] = [
      ['curl/8.4.0', 'curl'],
      ['Wget/1.21.4', 'Wget'],
      ['python-requests/2.31.0', 'python-requests'],
      ['Python-urllib/3.11', 'Python-urllib'],
      ['python-httpx/0.27.0', 'httpx'],
      ['Go-http-client/2.0', 'Go-http-client'],
      ['Scrapy/2.11.1 (+https://scrapy.org)', 'Scrapy'],
      ['axios/1.6.8', 'axios'],
      ['node-fetch/1.0 (+https://github.com/bitinn/node-fetch)', 'node-fetch'],
      ['libwww-perl/6.72', 'libwww-perl'],
      ['Java/17.0.10', 'Java'],
      ['Apache-HttpClient/4.5.14 (Java/17.0.10)', 'Apache-HttpClient'],
      ['okhttp/4.12.0', 'okhttp'],
    ];
    for (const [ua, name] of cases) {
      const f = detectBot(req({ 'User-Agent': ua }));
      expect(f.map((x) => [x.kind, x.bot, x.category, x.location])).toEqual([
        ['tool', name, 'bot', 'header.user-agent'],
      ]);
      expect(f[0]?.confidence).toBe(0.6);
      expect(f[0]?.alertOnly).toBe(false);
    }
  });

  it('names headless and driven browsers with high confidence', () => {
    const headless =
      'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/124.0.6367.60 Safari/537.36';
    expect(kinds({ 'User-Agent': headless, ...browserAccept })).toEqual([
      ['headless', 'HeadlessChrome'],
    ]);
    expect(
      kinds({
        'User-Agent':
          'Mozilla/5.0 (Unknown; Linux x86_64) AppleWebKit/538.1 (KHTML, like Gecko) PhantomJS/2.1.1 Safari/538.1',
      }),
    ).toEqual([['headless', 'PhantomJS']]);
    expect(detectBot(req({ 'User-Agent': headless }))[0]?.confidence).toBe(0.9);
  });

  it('sees HeadlessChrome in the client hints even behind a normal user agent', () => {
    const f = detectBot(
      req({
        ...chromeHeaders,
        'sec-ch-ua': '"HeadlessChrome";v="124", "Chromium";v="124", "Not-A.Brand";v="99"',
      }),
    );
    expect(f.map((x) => [x.kind, x.location])).toEqual([['headless', 'header.sec-ch-ua']]);
  });

  it('flags headers only automation frameworks send', () => {
    expect(kinds({ ...chromeHeaders, 'X-Selenium': '1' })).toEqual([
      ['automation-header', 'x-selenium'],
    ]);
    expect(
      kinds({ ...chromeHeaders, 'X-DevTools-Emulate-Network-Conditions-Client-Id': 'A1B2' }),
    ).toEqual([['automation-header', 'x-devtools-emulate-network-conditions-client-id']]);
  });

  it('flags a missing or empty user agent', () => {
    expect(kinds({ Accept: '*/*' })).toEqual([['no-agent', 'no user agent']]);
    expect(kinds({ 'User-Agent': '   ' })).toEqual([['no-agent', 'no user agent']]);
  });

  it('flags a browser user agent without the headers every browser sends', () => {
    const none = detectBot(req({ 'User-Agent': CHROME_WIN }));
    expect(none.map((x) => [x.kind, x.bot, x.confidence])).toEqual([
      ['inconsistent', 'accept,accept-language', 0.5],
    ]);
    const one = detectBot(req({ 'User-Agent': FIREFOX_LINUX, Accept: '*/*' }));
    expect(one.map((x) => [x.bot, x.location, x.confidence])).toEqual([
      ['accept-language', 'header.accept-language', 0.3],
    ]);
  });

  it('flags client hints that contradict the user agent', () => {
    // Chromium hints with a Firefox user agent: Firefox sends none.
    expect(
      kinds({
        'User-Agent': FIREFOX_LINUX,
        ...browserAccept,
        'sec-ch-ua': chromeHeaders['sec-ch-ua'],
      }),
    ).toEqual([['inconsistent', 'sec-ch-ua']]);
    // A Windows user agent from a browser whose platform hint says Linux.
    expect(kinds({ ...chromeHeaders, 'sec-ch-ua-platform': '"Linux"' })).toEqual([
      ['inconsistent', 'sec-ch-ua-platform'],
    ]);
    // A user agent edited to Chrome 124 over a Chromium 120 engine.
    expect(
      kinds({
        ...chromeHeaders,
        'sec-ch-ua': '"Chromium";v="120", "Google Chrome";v="120", "Not-A.Brand";v="99"',
      }),
    ).toEqual([['inconsistent', 'sec-ch-ua']]);
    // The mobile hint set on a desktop user agent.
    expect(kinds({ ...chromeHeaders, 'sec-ch-ua-mobile': '?1' })).toEqual([
      ['inconsistent', 'sec-ch-ua-mobile'],
    ]);
  });

  it('reports search crawlers as alert-only at low confidence, not as browsers missing headers', () => {
    const googlebot =
      'Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.60 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)';
    const bingbot = 'Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)';
    for (const [ua, name] of [
      [googlebot, 'Googlebot'],
      [bingbot, 'bingbot'],
    ] as const) {
      const f = detectBot(req({ 'User-Agent': ua }));
      expect(f.map((x) => [x.kind, x.bot, x.alertOnly, x.confidence])).toEqual([
        ['crawler', name, true, 0.1],
      ]);
      expect(f[0]?.reason).toContain('unverified');
    }
  });

  it('handles repeated headers and any case of header names', () => {
    const f = detectBot({
      method: 'GET',
      url: '/',
      headers: { 'USER-AGENT': ['curl/8.4.0', CHROME_WIN] },
    });
    expect(f.map((x) => x.bot)).toEqual(['curl']);
  });

  it('cuts evidence to 200 characters and stays linear on a huge user agent', () => {
    const f = detectBot(req({ 'User-Agent': `curl/8.0 ${'a'.repeat(1_000_000)}` }));
    expect(f[0]?.evidence).toHaveLength(200);
  });
});
