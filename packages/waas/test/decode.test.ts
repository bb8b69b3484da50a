import { describe, expect, it } from 'vitest';
import {
  decodeBase64Text,
  decodeEscapes,
  decodeFormVariant,
  looksFormEncoded,
  plusJoinsWords,
  decodeHtmlEntities,
  decodeValue,
  urlDecode,
} from '../src/decode.js';

describe('decodeValue', () => {
  it('URL-decodes double and triple encoding, but stops after three rounds', () => {
    expect(urlDecode('%2527')).toBe("'");
    expect(urlDecode('%252527')).toBe("'");
    expect(urlDecode('%25252527')).toBe('%27');
  });

  it('reads + as a space only where asked, and only in the first round', () => {
    expect(urlDecode('a+b', true)).toBe('a b');
    expect(urlDecode('a+b')).toBe('a+b');
    expect(urlDecode('1%2B1', true)).toBe('1+1');
  });

  it('offers the form-decoded reading of a + next to percent escapes, and only then', () => {
    // A form-encoded value in a header, path or JSON string: `+` spaces, `%3B` and `%27` escapes.
    const header = 'x%27+or+lower%28name%29%3D%27y';
    expect(decodeFormVariant(header, decodeValue(header))).toBe("x' or lower(name)='y");
    // Encoded twice over a form encoding: its `+` spaces arrive as `%2B`.
    const twice = '9%2BUNION%2BALL%2BSELECT%2B%2527a%2527';
    expect(decodeFormVariant(twice, decodeValue(twice, { plusAsSpace: true }))).toBe(
      "9 UNION ALL SELECT 'a'",
    );
    // A literal plus with nothing encoded, or encoded once as %2B, stays the only reading.
    expect(decodeFormVariant('c++', 'c++')).toBeUndefined();
    expect(decodeFormVariant('1%2B1', decodeValue('1%2B1', { plusAsSpace: true }))).toBeUndefined();
    expect(decodeFormVariant('a%20b', 'a b')).toBeUndefined();
  });

  it("tells a form encoder's output from values whose + may be a plus", () => {
    expect(looksFormEncoded('the+select+was+a+great+union%21')).toBe(true);
    expect(looksFormEncoded('9%2BUNION%2BALL%2BSELECT%2B%2527a%2527')).toBe(true);
    // `%20` (also one layer down, `%2520`) is written by encoders that leave `+` alone.
    expect(looksFormEncoded('1%27%20and%20char(124)+user')).toBe(false);
    expect(looksFormEncoded('1%27%2520and%2520char(124)%252Buser')).toBe(false);
    expect(looksFormEncoded('a+b c%21')).toBe(false);
    expect(looksFormEncoded('c++')).toBe(false);
  });

  it("takes pluses that only join words, with nothing escaped, as a form encoder's spaces", () => {
    expect(plusJoinsWords('the+select+was+a+great+union')).toBe(true);
    expect(plusJoinsWords('9+or+sleep(4)')).toBe(true);
    for (const raw of [
      'c++',
      '1+1',
      "x'+sleep(1)+'",
      'a +b',
      'no pluses',
      'text/xhtml+xml',
      'q8+Zr3=',
    ]) {
      expect(plusJoinsWords(raw), raw).toBe(false);
    }
    expect(decodeFormVariant('the+select+was', 'the+select+was')).toBe('the select was');
  });

  it('reads + as a space only in layers that are URL-encoded', () => {
    // `%252B` is a plus two layers down: the last layer, `%1+0`, decodes nothing.
    const raw = 'aa%2527%25251%252B0%253D%25270';
    expect(decodeFormVariant(raw, decodeValue(raw, { plusAsSpace: true }))).toBeUndefined();
  });

  it('decodes overlong UTF-8 to the character it spells and bad bytes without throwing', () => {
    expect(urlDecode('%C0%AE%C0%AE%C0%AF')).toBe('../');
    expect(urlDecode('%FF%C3')).toBe('\ufffd\ufffd');
    expect(urlDecode('%u003cscript')).toBe('<script');
    expect(urlDecode('100%')).toBe('100%');
  });

  it('decodes named, decimal and hex entities, with or without semicolons and leading zeros', () => {
    expect(decodeHtmlEntities('&lt;a&gt;&quot;&colon;')).toBe('<a>":');
    expect(decodeHtmlEntities('&#60;&#x3C;&#0000060&#X3c;')).toBe('<<<<');
    expect(decodeHtmlEntities('AT&T &unknown; &#;')).toBe('AT&T &unknown; &#;');
  });

  it('decodes \\u, \\u{} and \\x escapes and leaves other backslashes', () => {
    expect(decodeEscapes('\\u003c\\u{3e}\\x27\\n')).toBe("<>'\\n");
  });

  it('applies URL, entity and escape decoding in turn and removes NULs', () => {
    expect(decodeValue('%26lt%3Bscript%26gt%3B')).toBe('<script>');
    expect(decodeValue('\\u0025\\u0032\\u0037')).toBe("'");
    expect(decodeValue('ad%00min')).toBe('admin');
    expect(decodeValue('plain value')).toBe('plain value');
  });

  it('finds text in base64 only when it decodes to printable text with punctuation', () => {
    expect(decodeBase64Text(Buffer.from("' or 1=1--").toString('base64'))).toBe("' or 1=1--");
    expect(decodeBase64Text('dGVzdCB2YWx1ZXM')).toBeUndefined(); // "test values": no syntax
    expect(decodeBase64Text('a1b2c3d4e5f6a7b8c9d0')).toBeUndefined(); // a hex id
  });

  it('takes line breaks as syntax and 11 characters as long enough', () => {
    expect(decodeBase64Text(Buffer.from('\r\nRSET\r\n').toString('base64url'))).toBe(
      '\r\nRSET\r\n',
    );
    expect(decodeBase64Text('Christopher')).toBeUndefined(); // a name, not base64 of text
    expect(decodeBase64Text('0123456789a')).toBeUndefined();
  });

  it('stays linear on long adversarial input', () => {
    const input = '%25'.repeat(100_000) + '&#'.repeat(100_000) + '\\u'.repeat(100_000);
    const start = process.hrtime.bigint();
    decodeValue(input);
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    expect(ms).toBeLessThan(2_000);
  });
});
