// parseJsonBytes must give exactly what JSON.parse of the body's UTF-8 text gives, whichever way
// it takes: each case below is compared with that, values, key order and prototype included.
import { describe, expect, it } from 'vitest';
import { parseJsonBytes } from '../../src/zendesk/json-bytes.ts';

const viaText = (bytes: Buffer) => JSON.parse(new TextDecoder().decode(bytes)) as unknown;
const bytesOf = (text: string) => Buffer.from(text, 'utf8');

describe('parseJsonBytes', () => {
  const same: [string, Buffer][] = [
    ['ASCII only', bytesOf('{"events":[{"id":"a","n":1.5,"t":"plain \\u00e9"}]}')],
    ['characters beyond Latin-1 in values and keys', bytesOf('{"a":"café – 😀","b":["ü",{"ñ":"日本"}],"é":{"x":"ß"}}')],
    ['an escape of a Latin-1 character beside a raw one', bytesOf('{"a":"caf\\u00e9 and é"}')],
    ['an escape beyond Latin-1 beside a raw character', bytesOf('{"a":"\\u2028 and \\u00ff and é"}')],
    ['an escaped backslash before a u', bytesOf('{"a":"C:\\\\u00e9 é"}')],
    ['ASCII escapes inside a non-ASCII string', bytesOf('{"a":"\\n\\"é\\u0041\\t"}')],
    ['a byte-order mark', bytesOf('\ufeff{"a":"é"}')],
    ['a key "__proto__" holding non-ASCII', bytesOf('{"__proto__":{"é":"ü"},"k":"ü"}')],
    ['integer-like keys keep their order', bytesOf('{"1":"é","b":"x","0":"ü"}')],
    ['bytes that are not UTF-8', Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xc3, 0x22, 0x7d])],
    ['two keys that decode alike', Buffer.from('{"a\xff":1,"a\xfe":2,"b":"é"}', 'latin1')],
  ];
  it.each(same)('%s', (_, bytes) => {
    const expected = viaText(bytes);
    const actual = parseJsonBytes(bytes);
    expect(actual).toStrictEqual(expected);
    expect(JSON.stringify(actual)).toBe(JSON.stringify(expected));
  });

  it.each([
    ['beside ASCII keys', '{"__proto__":{"é":"ü"},"k":1}'],
    ['beside a non-ASCII key (the object rebuilt)', '{"__proto__":{"x":"ü"},"é":1}'],
  ])('a key "__proto__" %s stays an own property and never becomes the prototype', (_, text) => {
    const parsed = parseJsonBytes(bytesOf(text)) as Record<string, unknown>;
    expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(parsed, '__proto__')?.value).toEqual(JSON.parse(text).__proto__);
  });

  it('throws the error JSON.parse gives for the text, positions in characters', () => {
    const bytes = bytesOf('{"a":"é" "b":1}');
    expect(() => viaText(bytes)).toThrow(SyntaxError);
    expect(() => parseJsonBytes(bytes)).toThrow((() => {
      try {
        viaText(bytes);
      } catch (error) {
        return (error as Error).message;
      }
      return 'unreachable';
    })());
  });
});
