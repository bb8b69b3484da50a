import type { Detector, Finding, InspectedValue } from '../types.js';
import { finding } from './util.js';

/**
 * XML external entities (category `xxe`): a DOCTYPE that declares an entity or a DTD with
 * SYSTEM or PUBLIC, XInclude and schema locations that make a parser fetch, and documents
 * declared in UTF-7 (which hides markup from byte-level checks).
 */
export const xxeCheck: Detector = {
  name: 'xml-external-entity',
  categories: ['xxe'],
  inspect(value: InspectedValue): Finding[] {
    const text = value.value;
    if (text.indexOf('<') === -1 && text.indexOf('+ADw') === -1) return [];
    const lower = text.toLowerCase();
    const doctype = lower.indexOf('<!doctype');
    if (doctype !== -1) {
      const entity = lower.indexOf('<!entity', doctype);
      const from = entity === -1 ? doctype : entity;
      const gt = lower.indexOf('>', from);
      const decl = lower.slice(from, gt === -1 ? lower.length : gt);
      if (decl.includes(' system') || decl.includes(' public')) {
        const what = entity === -1 ? 'an external DTD' : 'an external entity';
        return [
          finding(value, 'xxe', 1, `a DOCTYPE that declares ${what}`, text.slice(from, from + 200)),
        ];
      }
      if (entity !== -1) {
        return [
          finding(
            value,
            'xxe',
            0.6,
            'a DOCTYPE that declares entities',
            text.slice(entity, entity + 200),
          ),
        ];
      }
    }
    // An entity declared outside a DOCTYPE: a value meant for the internal subset of a document
    // the server builds around it (`<!ENTITY x SYSTEM "file:///…">`, `<!ENTITY % p SYSTEM …>`).
    const bare = doctype === -1 ? lower.indexOf('<!entity') : -1;
    if (bare !== -1) {
      const gt = lower.indexOf('>', bare);
      const decl = lower.slice(bare, gt === -1 ? lower.length : gt);
      if (decl.includes(' system') || decl.includes(' public')) {
        return [
          finding(value, 'xxe', 1, 'declares an external entity', text.slice(bare, bare + 200)),
        ];
      }
    }
    const include = lower.indexOf('xi:include');
    const xsInclude = lower.indexOf(':include ');
    const schema = lower.indexOf('schemalocation=');
    const at = include !== -1 ? include : xsInclude !== -1 ? xsInclude : schema;
    if (at !== -1 && lower.includes('http', at)) {
      return [
        finding(
          value,
          'xxe',
          1,
          'an XInclude or schema location a parser fetches',
          text.slice(at, at + 200),
        ),
      ];
    }
    if (lower.startsWith('<?xml') && lower.slice(0, 100).includes('utf-7')) {
      return [finding(value, 'xxe', 1, 'an XML document declared in UTF-7', text.slice(0, 200))];
    }
    return [];
  },
};
