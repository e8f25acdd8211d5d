/** The strict JSON reader every hostile JSON input goes through (src/util/json.ts). */
import { describe, expect, it } from 'vitest';
import { AibomError } from '../src/errors.js';
import { findDuplicateKey, parseJsonText } from '../src/util/json.js';

describe('duplicate keys', () => {
  const cases: Array<[string, string | undefined]> = [
    ['{"a":1,"a":2}', 'a'],
    ['{"a":1,"\\u0061":2}', 'a'],
    ['{"a\\"":1,"a\\"":2}', 'a"'],
    ['{"a\\\\":1,"b":{"a\\\\":2}}', undefined],
    ['[{"a":1},{"a":1}]', undefined],
    ['{"x":"\\\\","x":1}', 'x'],
    ['{"k":"v\\"","k":1}', 'k'],
    ['{"x":["a","a"],"y":{"a":1,"b":{"a":2}}}', undefined],
    ['{"outer":{"in":1,"in":2}}', 'in'],
    ['{"a":{},"b":[],"a":null}', 'a'],
  ];
  for (const [text, key] of cases) {
    it(`${text} → ${key ?? 'none'}`, () => {
      expect(() => JSON.parse(text)).not.toThrow();
      expect(findDuplicateKey(text)?.key).toBe(key);
    });
  }
  it('parseJsonText refuses one, naming the file, the key, line and column', () => {
    let err: unknown;
    try {
      parseJsonText('\ufeff{\n  "a": 1,\n  "a": 2\n}', 'x.json');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AibomError);
    expect((err as AibomError).describe()).toBe('x.json: not valid JSON: duplicate key "a" at line 3, column 3');
  });
  it('a syntax error is reported as such, before any duplicate', () => {
    expect(() => parseJsonText('{"a":1,"a":2', 'y.json')).toThrow(/not valid JSON: (?!duplicate)/);
  });
  it('linear on long backslash runs', () => {
    const text = `{"a":"${'\\\\'.repeat(200_000)}","a":1}`;
    expect(findDuplicateKey(text)?.key).toBe('a');
  });
});

describe('numbers too large for a double', () => {
  it('1e400, -1E+400 or 400 digits read as Infinity: refused with where it is', () => {
    expect(() => parseJsonText('{"bomFormat":"CycloneDX","version":1e400}', 'b.json')).toThrow(/^not valid JSON: the number at \$\.version is too large \(it reads as Infinity\)$/);
    expect(() => parseJsonText('{"a":[1,{"b c":-1E+400}]}', 'b.json')).toThrow(/the number at \$\.a\[1\]\["b c"\] is too large/);
    expect(() => parseJsonText(`[${'9'.repeat(400)}]`, 'b.json')).toThrow(/the number at \$\[0\] is too large/);
  });
  it('large finite numbers, and strings that look like them, pass', () => {
    expect(parseJsonText('{"x":1e308,"y":"1e400","z":-1.5e-400}', 'b.json')).toEqual({ x: 1e308, y: '1e400', z: -0 });
  });
});

describe('text that is not in its encoding (decodeText)', () => {
  it('invalid UTF-8 is refused at its byte offset, past real U+FFFD characters', async () => {
    const { decodeText } = await import('../src/util/fs.js');
    expect(decodeText(Buffer.from('a\uFFFDb', 'utf8'), 'x.txt')).toBe('a\uFFFDb');
    expect(() => decodeText(Buffer.concat([Buffer.from('a\uFFFDb', 'utf8'), Buffer.from([0xc3, 0x28])]), 'x.txt')).toThrow(
      /^not UTF-8 text: an invalid byte sequence at byte 5$/,
    );
    expect(() => decodeText(Buffer.from([0xed, 0xa0, 0x80]), 'x.txt')).toThrow(/at byte 0$/); // a UTF-16 surrogate, encoded
  });
  it('UTF-16 after its byte-order mark must be UTF-16', async () => {
    const { decodeText } = await import('../src/util/fs.js');
    expect(decodeText(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('ok', 'utf16le')]), 'x.txt')).toBe('ok');
    // A lone high surrogate.
    expect(() => decodeText(Buffer.from([0xff, 0xfe, 0x3d, 0xd8, 0x41, 0x00]), 'x.txt')).toThrow(/^not UTF-16LE text, as its byte-order mark says: an invalid sequence at byte 2$/);
    // Big-endian: "ok" then a lone low surrogate.
    expect(() => decodeText(Buffer.from([0xfe, 0xff, 0x00, 0x6f, 0x00, 0x6b, 0xdc, 0x00]), 'x.txt')).toThrow(/^not UTF-16BE text, .*at byte 6$/);
    // An odd last byte.
    expect(() => decodeText(Buffer.from([0xff, 0xfe, 0x6f, 0x00, 0x6b]), 'x.txt')).toThrow(/at byte 4$/);
  });
});
