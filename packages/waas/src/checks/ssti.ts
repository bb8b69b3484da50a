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

/**
 * Server-side template injection (category `ssti`): template expressions that compute
 * (`{{7*7}}`, `${T(java.lang.Runtime)}`, `<%= 7*7 %>`, `#{16*8787}`), FreeMarker directives
 * (`<#assign`), server-side include directives (`<!--#include virtual=… -->`). At paranoia 3 and above, any non-empty `{{…}}` in a parameter.
 */
export const sstiCheck: Detector = {
  name: 'template-injection',
  categories: ['ssti'],
  inspect(value: InspectedValue, paranoia: Paranoia): Finding[] {
    const text = value.value;
    // Every delimiter below has a `{` or a `<`: values without either are most values.
    if (value.kind === 'json-key' || (text.indexOf('{') === -1 && text.indexOf('<') === -1)) {
      return [];
    }
    const ssi = text.indexOf('<!--#') === -1 ? -1 : ssiDirective(text, 0);
    if (ssi !== -1) {
      return [finding(value, 'ssti', 1, 'a server-side include directive', text.slice(ssi))];
    }
    const lower = text.indexOf('<#') !== -1 ? text.toLowerCase() : '';
    if (lower.includes('<#assign') || lower.includes('?new()')) {
      return [finding(value, 'ssti', 1, 'a FreeMarker directive', text.slice(lower.indexOf('<#')))];
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
