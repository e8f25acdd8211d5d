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
