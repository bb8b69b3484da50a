import { hexValue } from '../../decode.js';
import type { Detector, Finding, InspectedValue, Paranoia } from '../../types.js';
import { dangerousScheme, decodeEntities, normalizeUrlStart } from './entities.js';
import {
  type HtmlAttribute,
  type HtmlTag,
  indexOfIgnoreCase,
  readAttributes,
  tokenizeHtml,
} from './html-tokenizer.js';
import { findJsSink } from './js-sinks.js';

/**
 * Cross-site scripting, found by tokenizing a value as a browser would in each context a
 * reflected value lands in: page text (tags, comments), an attribute value it can close
 * (`" onmouseover="…`), a URL attribute (`javascript:`), a script (`';alert(1)//`).
 * Plain markup (`<b>bold</b>`) is no attack; what a browser would run is.
 */

/** Confidences, on the inspector's scale: ≥ 0.9 blocks alone, about 0.6 alerts. */
const BLOCK_SURE = 0.95;
const BLOCK = 0.9;
const ALERT = 0.6;
const NOTE = 0.4;

/** How deep attribute values and comments holding markup are tokenized again. */
const MAX_DEPTH = 2;

/** Event handler names (after `on`) browsers know; other `on…` names still count inside a tag. */
const EVENTS = new Set(
  (
    'abort activate afterprint afterscriptexecute animationcancel animationend animationiteration ' +
    'animationstart auxclick beforeactivate beforecopy beforecut beforedeactivate beforeinput ' +
    'beforematch beforepaste beforeprint beforescriptexecute beforetoggle beforeunload begin blur ' +
    'bounce cancel canplay canplaythrough change click close contentvisibilityautostatechange ' +
    'contextlost contextmenu contextrestored copy cuechange cut dblclick drag dragend dragenter ' +
    'dragexit dragleave dragover dragstart drop durationchange emptied end ended error finish ' +
    'focus focusin focusout formdata fullscreenchange fullscreenerror gotpointercapture ' +
    'hashchange help input invalid keydown keypress keyup load loadeddata loadedmetadata loadend ' +
    'loadstart lostpointercapture message messageerror mousedown mouseenter mouseleave mousemove ' +
    'mouseout mouseover mouseup mousewheel mozfullscreenchange move offline online pagehide ' +
    'pagereveal pageshow paste pause play playing pointercancel pointerdown pointerenter ' +
    'pointerleave pointermove pointerout pointerover pointerrawupdate pointerup popstate progress ' +
    'propertychange ratechange readystatechange repeat reset resize scroll scrollend ' +
    'scrollsnapchange search securitypolicyviolation seeked seeking select selectionchange ' +
    'selectstart show slotchange stalled start storage submit suspend timeupdate toggle ' +
    'touchcancel touchend touchmove touchstart transitioncancel transitionend transitionrun ' +
    'transitionstart unhandledrejection unload volumechange waiting webkitanimationend ' +
    'webkitanimationiteration webkitanimationstart webkittransitionend wheel zoom'
  ).split(' '),
);

/** Attributes a browser resolves as a URL it may navigate to or load as a document. */
const URL_ATTRIBUTES = new Set([
  'href',
  'src',
  'action',
  'formaction',
  'xlink:href',
  'data',
  'background',
  'poster',
  'lowsrc',
  'dynsrc',
  'codebase',
  'code',
  'archive',
  'cite',
  'longdesc',
  'profile',
  'usemap',
  'icon',
  'manifest',
  'ping',
  'srcset',
  'to',
  'from',
  'values',
  'by',
  'folder',
  'datasrc',
  'xmlns',
  'xml:base',
]);

/** Attributes whose URL a browser navigates to or loads as a document. */
const NAVIGATING = new Set(['href', 'action', 'formaction', 'xlink:href', 'data', 'src']);

/** Elements that load active content or change where the page's URLs point. */
const EMBEDDING = new Set(['iframe', 'frame', 'frameset', 'object', 'embed', 'applet', 'portal']);

function evidence(s: string, start: number, end: number): string {
  return s.slice(start, Math.min(end, start + 200));
}

function eventName(attribute: string): string | undefined {
  if (attribute.length < 4 || !attribute.startsWith('on')) return undefined;
  for (let i = 2; i < attribute.length; i++) {
    const c = attribute.charCodeAt(i);
    if (c < 0x61 || c > 0x7a) return undefined;
  }
  return attribute.slice(2);
}

/**
 * CSS as its tokenizer reads it for our purpose: comments and whitespace dropped, escapes
 * (`\\6a`, `\\28`, `\\R`) resolved, entities resolved, lower-cased.
 */
function normalizeCss(css: string, keepSpace = false): string {
  let out = '';
  const text = decodeEntities(css.length > 16_384 ? css.slice(0, 16_384) : css);
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x2f && text.charCodeAt(i + 1) === 0x2a) {
      const close = text.indexOf('*/', i + 2);
      i = close < 0 ? n : close + 1;
      continue;
    }
    if (c === 0x5c) {
      let cp = 0;
      let k = i + 1;
      while (k < n && k < i + 7 && hexValue(text.charCodeAt(k)) >= 0) {
        cp = cp * 16 + hexValue(text.charCodeAt(k));
        k++;
      }
      if (k > i + 1) {
        if (k < n && text.charCodeAt(k) <= 0x20) k++;
        if (cp > 0x20 && cp <= 0x10ffff) out += String.fromCodePoint(cp);
        i = k - 1;
      }
      continue; // `\\R` is `R`: the next round copies it
    }
    if (c <= 0x20 && !keepSpace) continue;
    out += text[i];
  }
  return keepSpace ? out : out.toLowerCase();
}

/** What in a style sheet or `style` attribute runs script or loads another sheet. */
function cssDanger(css: string): 'script' | 'import' | undefined {
  const lower = normalizeCss(css);
  if (
    lower.includes('expression(') ||
    lower.includes('javascript:') ||
    lower.includes('vbscript:') ||
    lower.includes('-moz-binding') ||
    lower.includes('binding:') ||
    lower.includes('behavior:') ||
    lower.includes('behaviour:')
  ) {
    return 'script';
  }
  return lower.includes('@import') ? 'import' : undefined;
}

interface Scan {
  s: string;
  at: InspectedValue;
  paranoia: Paranoia;
  findings: Finding[];
  /** Highest confidence so far: a value needs no second finding of the same weight. */
  best: number;
}

function add(scan: Scan, confidence: number, start: number, end: number, reason: string): void {
  if (confidence <= scan.best && scan.findings.length > 0) return;
  scan.best = Math.max(scan.best, confidence);
  scan.findings.push({
    category: 'xss',
    location: scan.at.location,
    evidence: evidence(scan.s, start, end),
    confidence,
    reason,
  });
}

function checkAttribute(
  scan: Scan,
  attribute: HtmlAttribute,
  tagName: string,
  inTag: boolean,
  end: number,
): void {
  const name = attribute.name;
  const event = eventName(name);
  if (event !== undefined && attribute.hasValue) {
    if (EVENTS.has(event)) {
      add(scan, BLOCK_SURE, attribute.start, end, `event handler attribute ${name}`);
    } else if (inTag) {
      add(scan, BLOCK, attribute.start, end, `event handler-like attribute ${name} in a tag`);
    } else if (scan.paranoia >= 2) {
      add(scan, ALERT, attribute.start, end, `attribute ${name} after a closing quote`);
    }
    return;
  }
  if (!attribute.hasValue) return;
  if (name === 'style') {
    if (cssDanger(attribute.value) === 'script') {
      add(scan, BLOCK, attribute.start, end, 'style attribute runs script');
    } else if (indexOfIgnoreCase(attribute.value, 'url(', 0) >= 0) {
      const confidence = scan.paranoia >= 2 ? BLOCK : ALERT;
      add(scan, confidence, attribute.start, end, 'style attribute loads a URL');
    }
    // CSS escapes hiding markup: `\\3cimg\\20src\\3dx…`
    if (attribute.value.includes('\\') && scan.best < BLOCK) {
      const css = normalizeCss(attribute.value, true);
      if (css.includes('<')) scanMarkup(scan, css, MAX_DEPTH);
    }
    return;
  }
  if (name === 'srcdoc') {
    add(scan, inTag ? BLOCK_SURE : BLOCK, attribute.start, end, 'srcdoc holds a document');
    return;
  }
  if (name === 'dataformatas' || name === 'datasrc') {
    add(scan, BLOCK, attribute.start, end, `data binding attribute ${name}`);
    return;
  }
  const isUrl = URL_ATTRIBUTES.has(name);
  // Old engines took a backtick for a quote: <img src=`javascript:…`>.
  const value = attribute.value.startsWith('`') ? attribute.value.slice(1) : attribute.value;
  const normalized = normalizeUrlStart(value);
  const scheme = dangerousScheme(normalized);
  if (scheme === 'script') {
    const reason = `${normalized.slice(0, 10)} URL in ${name}`;
    add(scan, isUrl ? BLOCK_SURE : BLOCK, attribute.start, end, reason);
  } else if (scheme === 'html' && (isUrl || tagName === 'meta')) {
    add(scan, BLOCK, attribute.start, end, `data URL with a document in ${name}`);
  } else if (
    NAVIGATING.has(name) &&
    normalized.startsWith('data:') &&
    !normalized.startsWith('data:image/') &&
    tagName !== 'img'
  ) {
    add(scan, BLOCK, attribute.start, end, `data URL to navigate to in ${name}`);
  }
  if (tagName === 'meta' && name === 'content') {
    // <meta http-equiv=refresh content="0;url=javascript:…">
    const url = indexOfIgnoreCase(attribute.value, 'url=', 0);
    if (
      url >= 0 &&
      dangerousScheme(normalizeUrlStart(attribute.value.slice(url + 4))) !== undefined
    ) {
      add(scan, BLOCK_SURE, attribute.start, end, 'meta refresh to a script URL');
    }
  }
}

function checkTag(scan: Scan, tag: HtmlTag, depth: number): void {
  const name = tag.name;
  const end = tag.end;
  for (const attribute of tag.attributes) {
    checkAttribute(scan, attribute, name, true, end);
    // A quoted value holding markup may be read as markup where the value really lands.
    if (depth < MAX_DEPTH && attribute.value.includes('<')) {
      scanMarkup(scan, attribute.value, depth + 1);
    }
  }
  if (name === 'script') {
    add(scan, BLOCK_SURE, tag.start, end, 'script element');
  } else if (EMBEDDING.has(name)) {
    add(scan, BLOCK, tag.start, end, `${name} element embeds active content`);
  } else if (name === 'base' && tag.attributes.some((a) => a.name === 'href')) {
    add(scan, BLOCK, tag.start, end, 'base element redirects the page’s URLs');
  } else if (name === 'meta') {
    // http-equiv (refresh, set-cookie, link, content-type) and charset change how the page is
    // read or where it goes; a page's own meta never comes from a request parameter.
    const charset = tag.attributes.find((a) => a.name === 'charset');
    const utf8 = charset !== undefined && charset.value.toLowerCase().replace('-', '') === 'utf8';
    if (tag.attributes.some((a) => a.name === 'http-equiv') || (charset !== undefined && !utf8)) {
      add(scan, BLOCK, tag.start, end, 'meta element changes the page’s behaviour');
    }
  } else if (name === 'link') {
    const rel = tag.attributes.find((a) => a.name === 'rel');
    const relValue = rel === undefined ? '' : rel.value.toLowerCase();
    if (relValue.includes('import') || relValue.includes('stylesheet')) {
      add(scan, BLOCK, tag.start, end, 'link loads a document or style sheet');
    }
  } else if (name === 'xml' || name === 'import' || name === 'xss') {
    add(scan, BLOCK, tag.start, end, `${name} element`);
  } else if (name === 'style') {
    add(scan, ALERT, tag.start, end, 'style element');
  } else if (scan.paranoia >= 3 && scan.best < NOTE) {
    add(scan, NOTE, tag.start, end, `markup <${name}>`);
  }
}

function scanMarkup(scan: Scan, s: string, depth: number): void {
  tokenizeHtml(s, {
    startTag: (tag) => checkTag(scan, tag, depth),
    comment: (text, start) => {
      // Conditional comments (`<!--[if]><script>…`) and bogus comments hiding a tag.
      if (depth < MAX_DEPTH && text.includes('<')) scanMarkup(scan, text, depth + 1);
      // `<?xml-stylesheet …?>` and `<?import …>`: processing instructions old engines obeyed.
      const lower = text.slice(0, 20).toLowerCase();
      if (
        lower.startsWith('xml-stylesheet') ||
        lower.startsWith('xml:namespace') ||
        lower.startsWith('import')
      ) {
        add(scan, BLOCK, start, start + text.length, 'processing instruction loads code');
      }
    },
    rawText: (tagName, text) => {
      if (tagName === 'style') {
        const danger = cssDanger(text);
        if (danger === 'script') add(scan, BLOCK_SURE, 0, s.length, 'style sheet runs script');
        else if (danger === 'import') add(scan, BLOCK, 0, s.length, 'style sheet imports another');
      }
    },
  });
}

/** `" onmouseover="…` and `' autofocus onfocus=…`: the value closes the attribute it lands in. */
function scanAttributeBreakout(scan: Scan, s: string, quote: string): void {
  const q = s.indexOf(quote);
  if (q < 0) return;
  const attributes: HtmlAttribute[] = [];
  const { end } = readAttributes(s, q + 1, attributes);
  for (const attribute of attributes) checkAttribute(scan, attribute, '', false, end);
}

/**
 * Whether `normalizeUrlStart(s)` could start with a scheme `dangerousScheme` knows
 * (`javascript:`, `vbscript:`, `livescript:`, `mocha:`, `data:`): its first character that the
 * URL parser keeps is `j`, `v`, `l`, `m` or `d` in either case, or an entity (`&`) or a
 * non-ASCII character we leave to the full check.
 */
function mayStartScheme(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c <= 0x20 || c === 0xfeff || c === 0xa0) continue;
    if (c > 0x7f || c === 0x26) return true;
    const l = c | 0x20;
    return l === 0x6a || l === 0x76 || l === 0x6c || l === 0x6d || l === 0x64;
  }
  return false;
}

/** A value that is itself a URL, reflected into an href or src. */
function scanUrlValue(scan: Scan, s: string): void {
  const normalized = normalizeUrlStart(s, 48);
  const scheme = dangerousScheme(normalized);
  if (scheme === undefined) return;
  if (scheme === 'html') {
    add(scan, BLOCK, 0, s.length, 'data URL with a document');
    return;
  }
  // `javascript:` and then code, not `JavaScript: the basics`.
  const colon = s.indexOf(':');
  const rest = decodeEntities(s.slice(colon + 1));
  const code =
    findJsSink(rest) !== undefined ||
    rest.includes('(') ||
    rest.includes('`') ||
    rest.includes('=') ||
    rest.includes('[');
  add(scan, code ? BLOCK_SURE : ALERT, 0, s.length, `${normalized.slice(0, 10)} URL`);
}

/** `';alert(1)//`: leaving a script string, or calling what scripts are injected to call. */
function scanScript(scan: Scan, s: string): void {
  const hit = findJsSink(s);
  if (hit !== undefined) {
    const confidence = hit.strength === 'call' ? BLOCK : ALERT;
    add(scan, confidence, hit.index, hit.index + hit.length + 40, `script calls ${hit.what}`);
    return;
  }
  if (scan.paranoia < 2) return;
  let p = 0;
  if (s[p] === '\\') p++;
  const quote = s[p];
  if (quote !== "'" && quote !== '"' && quote !== '`') return;
  p++;
  while (p < s.length && ' )}]'.includes(s[p]!)) p++;
  const op = s[p];
  if (op !== undefined && ';+-*/|&,'.includes(op) && s.length > p + 2) {
    add(scan, ALERT, 0, s.length, 'closes a script string and adds code');
  } else if (indexOfIgnoreCase(s, '</script', 0) >= 0) {
    add(scan, ALERT, 0, s.length, 'closes a script element');
  }
}

function isWordChar(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

/**
 * The value with its tags removed, as a sanitizer that strips tags (PHP's `strip_tags`, a
 * `<[^>]*>` replacement) hands it on, when a removed tag joins word characters
 * (`o<x>nfocus`, `alert<b>(1)`) — the sign that tags are there to be removed; undefined
 * otherwise. Tags are `<` then a letter or `/`, to the next `>`.
 */
function strippedOfTags(s: string): string | undefined {
  let out = '';
  let from = 0;
  let joins = false;
  let lt = s.indexOf('<');
  while (lt !== -1) {
    const c = s.charCodeAt(lt + 1) | 0x20;
    if (!((c >= 97 && c <= 122) || c === 0x2f)) {
      lt = s.indexOf('<', lt + 1);
      continue;
    }
    const gt = s.indexOf('>', lt + 1);
    if (gt === -1) break;
    // A `<` inside the tag starts another: the tag is what lies between the last `<` and `>`.
    const inner = s.lastIndexOf('<', gt);
    if (inner > lt) {
      out += s.slice(from, inner);
      from = inner;
      lt = inner;
      continue;
    }
    if (lt > 0 && isWordChar(s.charCodeAt(lt - 1)) && gt + 1 < s.length) {
      const next = s.charCodeAt(gt + 1);
      if (isWordChar(next) || next === 40 /* ( */) joins = true;
    }
    out += s.slice(from, lt);
    from = gt + 1;
    lt = s.indexOf('<', from);
  }
  return joins ? out + s.slice(from) : undefined;
}

function inspect(at: InspectedValue, paranoia: Paranoia): Finding[] {
  const s = at.value;
  if (s.length < 3) return [];
  const scan: Scan = { s, at, paranoia, findings: [], best: 0 };
  if (s.includes('<')) scanMarkup(scan, s, 0);
  if (scan.best < BLOCK_SURE) {
    if (s.includes('"')) scanAttributeBreakout(scan, s, '"');
    if (s.includes("'")) scanAttributeBreakout(scan, s, "'");
    if (s.includes('`')) scanAttributeBreakout(scan, s, '`');
  }
  if (scan.best < BLOCK_SURE && s.includes(':') && mayStartScheme(s)) scanUrlValue(scan, s);
  // In an attribute or a script, a browser reads `&lpar;` as `(`. Without a call, a template
  // or a member access there is no script to look at.
  const script = s.includes('&') ? decodeEntities(s) : s;
  const code =
    script.includes('(') || script.includes('`') || script.includes('ocument') || paranoia >= 2;
  if (scan.best < BLOCK && code) scanScript(scan, script);
  if (scan.best < BLOCK && s.includes('<')) {
    const stripped = strippedOfTags(s);
    if (stripped !== undefined) {
      const inner: Scan = { s: stripped, at, paranoia, findings: [], best: 0 };
      for (const quote of ['"', "'", '`']) {
        if (stripped.includes(quote)) scanAttributeBreakout(inner, stripped, quote);
      }
      if (inner.best < BLOCK) scanScript(inner, stripped);
      for (const f of inner.findings) {
        if (f.confidence <= scan.best) continue;
        scan.best = f.confidence;
        scan.findings.push({ ...f, reason: `${f.reason}, once its tags are stripped` });
      }
    }
  }
  return scan.findings;
}

/** Finds what a browser would run in a value: script elements, handlers, script URLs, calls. */
export const xssDetector: Detector = {
  name: 'xss',
  categories: ['xss'],
  inspect(value, paranoia) {
    try {
      return inspect(value, paranoia);
    } catch {
      return [];
    }
  },
};
