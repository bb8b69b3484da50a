import { headerEntries, type HttpRequest } from '../request.js';
import type { Finding } from '../types.js';

/** What gave a bot away. */
export type BotKind =
  /** An HTTP library or command-line client (curl, python-requests, Go-http-client). */
  | 'tool'
  /** A headless or driven browser (HeadlessChrome, PhantomJS, Selenium, Puppeteer). */
  | 'headless'
  /** A header only automation frameworks send (`x-selenium`, a `webdriver` header). */
  | 'automation-header'
  /** No user agent, or an empty one. */
  | 'no-agent'
  /** Headers a browser sends are missing or contradict the browser the user agent claims. */
  | 'inconsistent'
  /** A search engine or link-preview crawler by its own claim (not verified). */
  | 'crawler';

/** A bot finding (category `bot`): judged apart from the anomaly score, by its own action. */
export interface BotFinding extends Finding {
  kind: BotKind;
  /** The bot or signal by name (`curl`, `HeadlessChrome`, `Googlebot`, `accept-language`). */
  bot: string;
  /** True for crawlers one wants (search engines): report, never block. */
  alertOnly: boolean;
}

type Signature = readonly [needle: string, name: string];

/**
 * Headless and driven browsers: they run JavaScript and pass naive checks, so naming themselves
 * in the user agent is the plainest signal there is.
 */
const HEADLESS: readonly Signature[] = [
  ['headlesschrome', 'HeadlessChrome'],
  ['phantomjs', 'PhantomJS'],
  ['selenium', 'Selenium'],
  ['webdriver', 'WebDriver'],
  ['puppeteer', 'Puppeteer'],
  ['playwright', 'Playwright'],
  ['slimerjs', 'SlimerJS'],
  ['htmlunit', 'HtmlUnit'],
];

/**
 * HTTP libraries and command-line clients, lower-case as they appear in their default user
 * agents. Legitimate API clients use them too, hence a middling confidence.
 */
const TOOLS: readonly Signature[] = [
  ['curl/', 'curl'],
  ['wget/', 'Wget'],
  ['python-requests', 'python-requests'],
  ['python-urllib', 'Python-urllib'],
  ['python-httpx', 'httpx'],
  ['aiohttp', 'aiohttp'],
  ['scrapy', 'Scrapy'],
  ['go-http-client', 'Go-http-client'],
  ['axios/', 'axios'],
  ['node-fetch', 'node-fetch'],
  ['undici', 'undici'],
  ['libwww-perl', 'libwww-perl'],
  ['apache-httpclient', 'Apache-HttpClient'],
  ['okhttp', 'okhttp'],
  ['guzzlehttp', 'Guzzle'],
  ['httpie', 'HTTPie'],
  ['postmanruntime', 'Postman'],
  ['mechanize', 'mechanize'],
  ['winhttp', 'WinHTTP'],
  ['windowspowershell', 'PowerShell'],
  // Last: library user agents often add the runtime (`Apache-HttpClient/4.5 (Java/17)`).
  ['java/', 'Java'],
];

/** Crawlers that announce themselves and that sites usually want: alert-only. */
const CRAWLERS: readonly Signature[] = [
  ['googlebot', 'Googlebot'],
  ['adsbot-google', 'AdsBot-Google'],
  ['mediapartners-google', 'Mediapartners-Google'],
  ['google-inspectiontool', 'Google-InspectionTool'],
  ['bingbot', 'bingbot'],
  ['duckduckbot', 'DuckDuckBot'],
  ['applebot', 'Applebot'],
  ['yandexbot', 'YandexBot'],
  ['baiduspider', 'Baiduspider'],
  ['yahoo! slurp', 'Yahoo! Slurp'],
  ['facebookexternalhit', 'facebookexternalhit'],
  ['twitterbot', 'Twitterbot'],
  ['linkedinbot', 'LinkedInBot'],
];

/** Fragments of header names only automation frameworks send. */
const AUTOMATION_HEADER_NEEDLES = ['selenium', 'webdriver', 'puppeteer', 'playwright'];
/** Sent by Chrome when driven over the DevTools protocol with network emulation (old Puppeteer). */
const DEVTOOLS_HEADER = 'x-devtools-emulate-network-conditions-client-id';

/** Confidences: a self-named headless browser is near certain; a library is often a real client. */
const CONFIDENCE = {
  headless: 0.9,
  automationHeader: 0.9,
  tool: 0.6,
  noAgent: 0.5,
  headlessBrand: 0.9,
  brandMismatch: 0.7,
  platformMismatch: 0.6,
  versionMismatch: 0.6,
  mobileMismatch: 0.5,
  oneMissing: 0.3,
  bothMissing: 0.5,
  crawler: 0.1,
} as const;

/** The user-agent lists in the order they are tried, with what a match means. */
const AGENT_LISTS: readonly (readonly [
  kind: BotKind,
  list: readonly Signature[],
  confidence: number,
  reason: (name: string) => string,
])[] = [
  [
    'headless',
    HEADLESS,
    CONFIDENCE.headless,
    (name) => `the user agent names a headless or driven browser (${name})`,
  ],
  [
    'tool',
    TOOLS,
    CONFIDENCE.tool,
    (name) => `the user agent is an HTTP library or command-line client (${name})`,
  ],
  [
    'crawler',
    CRAWLERS,
    CONFIDENCE.crawler,
    (name) => `claims to be ${name} (unverified: only reverse DNS of the address can confirm it)`,
  ],
];

/** Characters of a header value looked at: real user agents are under 300; longer is padding. */
const MAX_SCANNED = 2048;
const MAX_EVIDENCE = 200;

function find(lower: string, list: readonly Signature[]): Signature | undefined {
  for (const s of list) if (lower.includes(s[0])) return s;
  return undefined;
}

/** The decimal number at `from` in `text`, or -1. */
function numberAt(text: string, from: number): number {
  let n = -1;
  for (let i = from; i < text.length && i < from + 6; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) break;
    n = (n === -1 ? 0 : n * 10) + d;
  }
  return n;
}

/** The major version after `marker` in `text`, or -1. */
function versionAfter(text: string, marker: string): number {
  const at = text.indexOf(marker);
  return at === -1 ? -1 : numberAt(text, at + marker.length);
}

/**
 * Whether a user agent agrees with the `sec-ch-ua-platform` a Chromium browser sent
 * (`"Windows"`, `"macOS"`, …). Unknown platforms agree.
 */
function platformAgrees(platform: string, ua: string): boolean {
  switch (platform) {
    case 'windows':
      return ua.includes('windows');
    case 'macos':
      return ua.includes('macintosh') || ua.includes('mac os x');
    case 'linux':
      return ua.includes('linux') || ua.includes('x11');
    case 'android':
      return ua.includes('android');
    case 'chrome os':
    case 'chromeos':
      return ua.includes('cros');
    case 'ios':
      return ua.includes('iphone') || ua.includes('ipad');
    default:
      return true;
  }
}

function unquote(value: string): string {
  const v = value.trim().toLowerCase();
  return v.length >= 2 && v.startsWith('"') && v.endsWith('"') ? v.slice(1, -1) : v;
}

function make(
  kind: BotKind,
  bot: string,
  location: string,
  evidence: string,
  confidence: number,
  reason: string,
): BotFinding {
  return {
    category: 'bot',
    location,
    evidence: evidence.slice(0, MAX_EVIDENCE),
    confidence,
    reason,
    kind,
    bot,
    alertOnly: kind === 'crawler',
  };
}

/**
 * Checks of a user agent that claims a browser against the headers that browser would send;
 * `ua` and `lowerBrands` (`sec-ch-ua`) come lower-cased from {@link detectBot}.
 */
function browserChecks(
  ua: string,
  lowerBrands: string,
  headers: ReadonlyMap<string, string>,
  out: BotFinding[],
): void {
  const missing = ['accept', 'accept-language'].filter((h) => !headers.has(h));
  if (missing.length > 0) {
    out.push(
      make(
        'inconsistent',
        missing.join(','),
        `header.${missing[0] ?? 'accept'}`,
        missing.join(', '),
        missing.length === 2 ? CONFIDENCE.bothMissing : CONFIDENCE.oneMissing,
        `claims a browser but sends no ${missing.join(' and no ')} header, which browsers always send`,
      ),
    );
  }
  const brands = headers.get('sec-ch-ua');
  if (brands === undefined) return;
  if (lowerBrands.includes('headlesschrome')) return; // reported as headless already
  const chromium = ua.includes('chrome/') || ua.includes('chromium/');
  if (!chromium) {
    out.push(
      make(
        'inconsistent',
        'sec-ch-ua',
        'header.sec-ch-ua',
        brands,
        CONFIDENCE.brandMismatch,
        'sends Chromium client hints with a user agent of a browser that has none (Firefox, Safari)',
      ),
    );
    return;
  }
  const uaMajor = versionAfter(ua, 'chrome/');
  const hintMajor = versionAfter(lowerBrands, 'chromium";v="');
  if (uaMajor !== -1 && hintMajor !== -1 && uaMajor !== hintMajor) {
    out.push(
      make(
        'inconsistent',
        'sec-ch-ua',
        'header.sec-ch-ua',
        brands,
        CONFIDENCE.versionMismatch,
        `client hints say Chromium ${hintMajor}, the user agent Chrome ${uaMajor}`,
      ),
    );
  }
  const platform = headers.get('sec-ch-ua-platform');
  if (platform !== undefined && !platformAgrees(unquote(platform), ua)) {
    out.push(
      make(
        'inconsistent',
        'sec-ch-ua-platform',
        'header.sec-ch-ua-platform',
        platform,
        CONFIDENCE.platformMismatch,
        'the platform client hint contradicts the operating system in the user agent',
      ),
    );
  }
  if (headers.get('sec-ch-ua-mobile')?.trim() === '?1' && !ua.includes('mobile')) {
    out.push(
      make(
        'inconsistent',
        'sec-ch-ua-mobile',
        'header.sec-ch-ua-mobile',
        '?1',
        CONFIDENCE.mobileMismatch,
        'the mobile client hint is set but the user agent is not a mobile browser',
      ),
    );
  }
}

/**
 * Bots in a request, from its user agent and the automation signals its headers show: HTTP
 * libraries and command-line clients, headless and driven browsers, headers only automation
 * sends, and a browser user agent whose other headers contradict it. Self-declared search
 * crawlers come back alert-only at low confidence: the claim is not verified (that needs a
 * reverse and forward DNS lookup of the client address, which is I/O and out of scope here).
 * Scanners and attack tools (sqlmap, nikto) are the inspector's `scanner` check, not repeated.
 * Linear time: lower-case `includes` over bounded lists. Never throws.
 */
export function detectBot(request: HttpRequest): BotFinding[] {
  const out: BotFinding[] = [];
  const headers = new Map<string, string>();
  for (const [name, value] of headerEntries(request)) {
    if (!headers.has(name)) headers.set(name, value);
    if (name === DEVTOOLS_HEADER || AUTOMATION_HEADER_NEEDLES.some((n) => name.includes(n))) {
      out.push(
        make(
          'automation-header',
          name,
          `header.${name}`,
          name,
          CONFIDENCE.automationHeader,
          'sends a header only browser automation frameworks send',
        ),
      );
    }
  }
  const rawUa = (headers.get('user-agent') ?? '').slice(0, MAX_SCANNED);
  if (rawUa.trim() === '') {
    out.push(
      make(
        'no-agent',
        'no user agent',
        'header.user-agent',
        rawUa,
        CONFIDENCE.noAgent,
        'sends no user agent: every browser does, scripts often do not',
      ),
    );
    return out;
  }
  const ua = rawUa.toLowerCase();
  const brands = headers.get('sec-ch-ua')?.slice(0, MAX_SCANNED).toLowerCase() ?? '';
  if (brands.includes('headlesschrome')) {
    out.push(
      make(
        'headless',
        'HeadlessChrome',
        'header.sec-ch-ua',
        headers.get('sec-ch-ua') ?? '',
        CONFIDENCE.headlessBrand,
        'the client hints name a headless browser',
      ),
    );
  }
  // The first list that names the agent decides; a browser's checks are for the rest.
  for (const [kind, list, confidence, reason] of AGENT_LISTS) {
    const signature = find(ua, list);
    if (signature !== undefined) {
      out.push(
        make(kind, signature[1], 'header.user-agent', rawUa, confidence, reason(signature[1])),
      );
      return out;
    }
  }
  const claimsBrowser =
    ua.startsWith('mozilla/') &&
    (ua.includes('chrome/') ||
      ua.includes('firefox/') ||
      ua.includes('safari/') ||
      ua.includes('edg/'));
  if (claimsBrowser) browserChecks(ua, brands, headers, out);
  return out;
}
