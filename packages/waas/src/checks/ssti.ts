import type { Detector, Finding, InspectedValue, Paranoia } from '../types.js';
import { finding } from './util.js';

/** Characters of template expressions that compute: arithmetic, attribute access, calls, filters. */
function computes(expr: string): boolean {
  for (let i = 0; i < expr.length; i++) {
    const c = expr[i]!;
    if ('*+-/%()[]|.?<>!='.includes(c)) return true;
  }
  return false;
}

/** Log4j and shell lookups (`${jndi:…}`, `${::-j}`, `${env:X:-y}`): the JNDI check's, not templates. */
function isLookup(expr: string): boolean {
  const lower = expr.toLowerCase();
  return (
    lower.startsWith('jndi:') ||
    lower.startsWith('${') ||
    lower.startsWith('lower:') ||
    lower.startsWith('upper:') ||
    lower.startsWith('env:') ||
    lower.startsWith('::-')
  );
}

/** Longest expression looked at inside delimiters, in characters. */
const MAX_EXPRESSION = 400;

/** Template delimiters: Jinja/Twig/Handlebars/Angular, JSP EL/Freemarker/Thymeleaf, ERB/EJS, Ruby/Pug/EL. */
const DELIMITERS: readonly (readonly [string, string])[] = [
  ['{{', '}}'],
  ['${', '}'],
  ['<%=', '%>'],
  ['<%', '%>'],
  ['#{', '}'],
  ['*{', '}'],
  ['{%', '%}'],
];

/** Server-side include directives (Apache mod_include, nginx ssi, IIS): `<!--#name …-->`. */
const SSI_DIRECTIVES: ReadonlySet<string> = new Set([
  'include',
  'exec',
  'echo',
  'config',
  'set',
  'printenv',
  'fsize',
  'flastmod',
  'if',
  'elif',
  'else',
  'endif',
  'block',
]);

/**
 * A server-side include directive at or after `from`: `<!--#` then a directive name then a
 * blank or the comment's end (`<!-- #main -->`, a comment about an anchor, is none). The
 * directive's position, or -1.
 */
function ssiDirective(text: string, from: number): number {
  let at = text.indexOf('<!--#', from);
  while (at !== -1) {
    let j = at + 5;
    while (j < text.length && j - at < 14) {
      const c = text.charCodeAt(j) | 0x20;
      if (c < 97 || c > 122) break;
      j++;
    }
    const name = text.slice(at + 5, j).toLowerCase();
    const next = text.charCodeAt(j);
    if (SSI_DIRECTIVES.has(name) && (next <= 32 || text.startsWith('-->', j))) return at;
    at = text.indexOf('<!--#', at + 5);
  }
  return -1;
}

/** FreeMarker's directives (`<#name `), which templates run: assignments, loops, includes. */
const FREEMARKER_DIRECTIVES: readonly string[] = [
  'assign',
  'list',
  'if',
  'include',
  'import',
  'macro',
  'function',
  'global',
  'local',
  'setting',
  'attempt',
  'visit',
  'items',
];

/** Whether lower-cased text holds `<#directive` followed by a blank or `>`. */
function freemarkerDirective(lower: string): boolean {
  let at = lower.indexOf('<#');
  while (at !== -1) {
    for (const name of FREEMARKER_DIRECTIVES) {
      if (lower.startsWith(name, at + 2)) {
        const next = lower.charCodeAt(at + 2 + name.length);
        if (next <= 32 || next === 62 /* > */) return true;
      }
    }
    at = lower.indexOf('<#', at + 2);
  }
  return false;
}

/**
 * Velocity's directives that set, evaluate or load (`#set($x = …)`, `#evaluate(`, `#parse(`,
 * `#foreach($i in …)`, `#macro(`), also in their braced form (`#{set}(`): where one starts, or -1.
 * `#if(` is left out: C's preprocessor writes it too.
 */
function velocityDirective(text: string): number {
  let at = text.indexOf('#');
  while (at !== -1) {
    let j = at + 1;
    const braced = text.charCodeAt(j) === 123; /* { */
    if (braced) j++;
    let k = j;
    while (
      k < text.length &&
      k - j < 9 &&
      (text.charCodeAt(k) | 0x20) >= 97 &&
      (text.charCodeAt(k) | 0x20) <= 122
    )
      k++;
    const name = text.slice(j, k);
    if (braced && text.charCodeAt(k) === 125 /* } */) k++;
    let p = k;
    while (p < text.length && text.charCodeAt(p) === 32) p++;
    if (text.charCodeAt(p) === 40 /* ( */) {
      const arg = text.charCodeAt(p + 1 + (text.charCodeAt(p + 1) === 32 ? 1 : 0));
      if (name === 'evaluate' || name === 'parse' || name === 'macro') return at;
      if ((name === 'set' || name === 'foreach') && arg === 36 /* $ */) return at;
    }
    at = text.indexOf('#', at + 1);
  }
  return -1;
}

/**
 * Server-side template injection (category `ssti`): template expressions that compute
 * (`{{7*7}}`, `${T(java.lang.Runtime)}`, `<%= 7*7 %>`, `#{16*8787}`), FreeMarker directives
 * (`<#assign`, `<#list`, …), Velocity directives (`#set($x=…)`), server-side include directives (`<!--#include virtual=… -->`). At paranoia 3 and above, any non-empty `{{…}}` in a parameter.
 */
export const sstiCheck: Detector = {
  name: 'template-injection',
  categories: ['ssti'],
  inspect(value: InspectedValue, paranoia: Paranoia): Finding[] {
    const text = value.value;
    // Every delimiter below has a `{`, a `<` or (Velocity) a `#`: values without any are most.
    if (
      value.kind === 'json-key' ||
      (text.indexOf('{') === -1 && text.indexOf('<') === -1 && text.indexOf('#') === -1)
    ) {
      return [];
    }
    const ssi = text.indexOf('<!--#') === -1 ? -1 : ssiDirective(text, 0);
    if (ssi !== -1) {
      return [finding(value, 'ssti', 1, 'a server-side include directive', text.slice(ssi))];
    }
    const lower = text.indexOf('<#') !== -1 ? text.toLowerCase() : '';
    if (lower.includes('?new()') || freemarkerDirective(lower)) {
      return [finding(value, 'ssti', 1, 'a FreeMarker directive', text.slice(lower.indexOf('<#')))];
    }
    const velocity = text.indexOf('#') === -1 ? -1 : velocityDirective(text);
    if (velocity !== -1) {
      return [finding(value, 'ssti', 1, 'a Velocity directive', text.slice(velocity))];
    }
    for (const [open, close] of DELIMITERS) {
      const at = text.indexOf(open);
      if (at === -1) continue;
      // `${jndi:…}` is the JNDI check's; a lookup of a plain name is a shell or config variable.
      const end = text.indexOf(close, at + open.length);
      if (end === -1 || end - at > MAX_EXPRESSION) continue;
      const expr = text.slice(at + open.length, end).trim();
      if (expr === '' || (open === '${' && isLookup(expr))) continue;
      if (computes(expr) || (paranoia >= 3 && open === '{{')) {
        return [
          finding(
            value,
            'ssti',
            1,
            `a template expression ${open}…${close} that computes`,
            text.slice(at, end + close.length),
          ),
        ];
      }
    }
    return [];
  },
};
