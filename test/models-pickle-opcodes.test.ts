import { describe, expect, it } from 'vitest';
import { emptyScan, type PickleLimits, type PickleScan, scanPickle } from '../src/inventory/models/pickle.js';
import { bufferSource } from '../src/inventory/models/reader.js';
import { global, proto, STOP, str } from './helpers/pickle-bytes.js';

/**
 * The pickle scanner opcode by opcode family: what each family records (imports, calls,
 * anomalies, tracked values) and how each refuses malformed input, on hand-written opcode
 * streams. Written against the scanner before it became an opcode table, so that the table
 * keeps every effect and every message.
 */

const b = (...parts: Array<Buffer | number[] | string>) =>
  Buffer.concat(parts.map((p) => (Buffer.isBuffer(p) ? p : typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p))));
const u32 = (n: number) => {
  const x = Buffer.alloc(4);
  x.writeInt32LE(n);
  return x;
};
const u64 = (n: number) => {
  const x = Buffer.alloc(8);
  x.writeBigUInt64LE(BigInt(n));
  return x;
};

async function scan(bytes: Buffer, limits?: PickleLimits): Promise<{ scan: PickleScan; error?: string }> {
  const s = emptyScan();
  try {
    await scanPickle(bufferSource(bytes), s, limits);
    return { scan: s };
  } catch (err) {
    return { scan: s, error: (err as Error).message };
  }
}

/** module.name → [verdict, calls, directCalls] */
const imports = (s: PickleScan) => Object.fromEntries([...s.imports].map(([k, v]) => [k, [v.verdict, v.calls, v.directCalls]]));

describe('pickle opcodes: stack, marks and constants', () => {
  it('DUP copies the top; DUP on an empty stack is refused with its offset', async () => {
    const ok = await scan(b(proto(2), global('os', 'system'), [0x32, 0x30], str('id'), [0x85, 0x52], STOP));
    expect(ok.error).toBeUndefined();
    expect(imports(ok.scan)).toEqual({ 'os.system': ['critical', 1, 1] });
    expect((await scan(b(proto(2), [0x32]))).error).toBe('DUP on an empty stack at offset 2');
  });

  it('LONG (text), FLOAT, NONE, NEWTRUE/NEWFALSE, NEXT_BUFFER and READONLY_BUFFER push untracked values', async () => {
    const r = await scan(b([0x28], 'L12345678901234567890L\n', 'F1.5\n', [0x4e, 0x88, 0x89, 0x97, 0x98, 0x6c], STOP));
    expect(r.error).toBeUndefined();
    expect(r.scan.opcodes).toBe(10);
    expect(r.scan.firstInt).toBeUndefined();
  });

  it('INT, BININT and LONG1 as the first value give the legacy magic number; LONG4 is skipped', async () => {
    expect((await scan(b(proto(2), 'I119547037146038801333356\n', STOP))).scan.firstInt).toBe(119547037146038801333356n);
    expect((await scan(b('I01\n', STOP))).scan.firstInt).toBe(1n);
    expect((await scan(b(proto(2), [0x8a, 2, 0xff, 0x7f], STOP))).scan.firstInt).toBe(32767n);
    expect((await scan(b(proto(2), [0x8a, 1, 0xff], STOP))).scan.firstInt).toBe(-1n);
    const long4 = await scan(b(proto(2), [0x8b], u32(3), [1, 2, 3], STOP));
    expect(long4.error).toBeUndefined();
    expect(long4.scan.firstInt).toBeUndefined();
    expect((await scan(b(proto(2), [0x8b], u32(-1)))).error).toBe('negative LONG4 length at offset 2');
    expect((await scan(b(proto(2), [0x8b], u32(100), [1]))).error).toBe('a length of 100 bytes runs past the end of the data');
  });

  it('PROTO above 5 is refused; PROTO in the middle is an anomaly', async () => {
    expect((await scan(b(proto(6), STOP))).error).toBe('unsupported pickle protocol 6');
    const mid = await scan(b(proto(2), [0x4e, 0x30], proto(3), [0x4e], STOP));
    expect(mid.error).toBeUndefined();
    expect(mid.scan.protocol).toBe(2);
    expect(mid.scan.anomalies).toEqual(['PROTO opcode in the middle of the pickle (offset 4)']);
  });

  it('an invalid opcode and an unbalanced mark are refused with their offsets', async () => {
    expect((await scan(b(proto(2), [0xa0]))).error).toBe('invalid pickle opcode 0xa0 at offset 2');
    expect((await scan(b(proto(2), [0x31]))).error).toBe('no mark to pop to at offset 3');
    expect((await scan(b(proto(2), [0x30]))).error).toBe('no mark to pop to at offset 3');
    expect((await scan(b(proto(2), STOP))).error).toBe('stack underflow at offset 3');
  });
});

describe('pickle opcodes: strings and bytes name imports', () => {
  it('BINSTRING, SHORT_BINSTRING and BINUNICODE8 strings feed STACK_GLOBAL', async () => {
    const r = await scan(
      b(proto(4), [0x55, 2], 'os', [0x54], u32(6), 'system', [0x93], [0x8d], u64(8), 'builtins', [0x55, 4], 'eval', [0x93, 0x30], STOP),
    );
    expect(r.error).toBeUndefined();
    expect(imports(r.scan)).toEqual({ 'os.system': ['critical', 0, 0], 'builtins.eval': ['critical', 0, 0] });
  });

  it('STRING and UNICODE lines are kept when plain, opaque when escaped', async () => {
    const r = await scan(b("S'posix'\n", 'Vsystem\n', [0x93, 0x30], "S'o\\x73'\n", 'Vsystem\n', [0x93], STOP));
    expect(r.error).toBeUndefined();
    expect(imports(r.scan)).toEqual({ 'posix.system': ['critical', 0, 0] });
    expect(r.scan.dynamicImports).toBe(1);
  });

  it('a long string is opaque: STACK_GLOBAL with it is a dynamic import', async () => {
    const long = 'x'.repeat(2000);
    const r = await scan(b(proto(4), [0x58], u32(long.length), long, str('f'), [0x93], STOP));
    expect(r.scan.dynamicImports).toBe(1);
    expect(r.scan.imports.size).toBe(0);
  });

  it('BINBYTES8 handed to torch.storage._load_from_bytes is recorded as a nested pickle; BYTEARRAY8 is skipped', async () => {
    const r = await scan(
      b(proto(4), global('torch.storage', '_load_from_bytes'), [0x8e], u64(3), 'abc', [0x85, 0x52, 0x30], [0x96], u64(2), 'zz', STOP),
    );
    expect(r.error).toBeUndefined();
    expect(r.scan.nested).toEqual([{ at: 43, len: 3 }]);
    expect(imports(r.scan)).toEqual({ 'torch.storage._load_from_bytes': ['safe', 1, 1] });
    const dyn = await scan(b(proto(4), global('torch.storage', '_load_from_bytes'), [0x4e, 0x85, 0x52], STOP));
    expect(imports(dyn.scan)).toEqual({ 'torch.storage._load_from_bytes': ['critical', 1, 1] });
  });

  it('_codecs.encode(text, "latin1") builds bytes that _load_from_bytes hands on', async () => {
    const r = await scan(
      b(proto(2), global('torch.storage', '_load_from_bytes'), global('_codecs', 'encode'), str('\u00ff\u0001'), str('latin1'), [0x86, 0x52, 0x85, 0x52], STOP),
    );
    expect(r.error).toBeUndefined();
    expect(r.scan.nested).toEqual([{ at: 0, len: 2, data: Buffer.from([0xff, 0x01]) }]);
  });
});

describe('pickle opcodes: imports and calls', () => {
  it('INST imports and calls with the items above the mark', async () => {
    const r = await scan(b([0x28], "S'id'\n", 'ios\nsystem\n', STOP));
    expect(r.error).toBeUndefined();
    expect(imports(r.scan)).toEqual({ 'os.system': ['critical', 1, 1] });
  });

  it('OBJ calls the first item above the mark; OBJ without one is refused', async () => {
    const r = await scan(b(proto(2), [0x28], global('collections', 'OrderedDict'), [0x6f], [0x28, 0x4e, 0x6f], STOP));
    expect(r.error).toBeUndefined();
    expect(imports(r.scan)).toEqual({ 'collections.OrderedDict': ['allowed', 1, 1] });
    expect(r.scan.unnamedCalls).toBe(1);
    expect((await scan(b(proto(2), [0x28, 0x6f]))).error).toBe('OBJ without a class at offset 3');
  });

  it('NEWOBJ and NEWOBJ_EX are calls of cls.__new__, not direct calls', async () => {
    const r = await scan(
      b(proto(4), global('mymod', 'Thing'), [0x29, 0x81, 0x30], global('mymod', 'Other'), [0x29, 0x7d, 0x92], STOP),
    );
    expect(r.error).toBeUndefined();
    expect(imports(r.scan)).toEqual({ 'mymod.Thing': ['unknown', 1, 0], 'mymod.Other': ['unknown', 1, 0] });
  });

  it('copyreg._reconstructor counts a call of its base class, or an unnamed call', async () => {
    const r = await scan(
      b(
      b(proto(2), global('copy_reg', '_reconstructor'), global('mymod', 'Thing'), global('mymod', 'Base'), [0x4e, 0x87, 0x52, 0x30]),
      b(global('copy_reg', '_reconstructor'), global('mymod', 'Thing'), global('__builtin__', 'object'), [0x4e, 0x87, 0x52, 0x30]),
      b(global('copy_reg', '_reconstructor'), global('mymod', 'Thing'), [0x4e, 0x4e, 0x87, 0x52], STOP),
      ),
    );
    expect(r.error).toBeUndefined();
    expect(imports(r.scan)).toEqual({
      'copyreg._reconstructor': ['safe', 3, 3],
      'mymod.Thing': ['unknown', 0, 0],
      'mymod.Base': ['unknown', 1, 1],
      'builtins.object': ['safe', 0, 0],
    });
    expect(r.scan.unnamedCalls).toBe(1);
  });

  it('EXT1, EXT2 and EXT4 are extension-registry imports', async () => {
    const r = await scan(b(proto(2), [0x82, 1, 0x30, 0x83, 1, 0, 0x30, 0x84, 1, 0, 0, 0], [0x29, 0x52], STOP));
    expect(r.error).toBeUndefined();
    expect(r.scan.extensionImports).toBe(3);
    expect(r.scan.unnamedCalls).toBe(1);
  });

  it('BINPERSID returns the class inside a legacy torch module id; PERSID is opaque', async () => {
    const r = await scan(b(proto(2), str('module'), global('mymod', 'Net'), [0x86, 0x51, 0x29, 0x52, 0x30], 'P0\n', [0x29, 0x52], STOP));
    expect(r.error).toBeUndefined();
    expect(imports(r.scan)).toEqual({ 'mymod.Net': ['unknown', 1, 1] });
    expect(r.scan.unnamedCalls).toBe(1);
  });
});

describe('pickle opcodes: memo', () => {
  it('PUT / GET by text index, BINPUT / BINGET, LONG_BINPUT / LONG_BINGET and MEMOIZE keep memoized names', async () => {
    const r = await scan(
      b(
      b(proto(4), str('os'), 'p0\n', [0x30], str('system'), [0x71, 1, 0x30], str('posix'), [0x72], u32(2), [0x30], str('eval'), [0x94, 0x30]),
      b('g0\n', [0x68, 1, 0x93, 0x30, 0x6a], u32(2), [0x68, 1, 0x93, 0x30], str('builtins'), [0x68, 3, 0x93], STOP),
      ),
    );
    expect(r.error).toBeUndefined();
    expect(imports(r.scan)).toEqual({ 'os.system': ['critical', 0, 0], 'posix.system': ['critical', 0, 0], 'builtins.eval': ['critical', 0, 0] });
    expect(r.scan.dynamicImports).toBe(0);
  });

  it('memo anomalies: indices far out of range, entries never stored, a full memo', async () => {
    const r = await scan(b(proto(2), [0x4e], 'p99999999999999999999\n', [0x72], u32(2_000_000), [0x68, 7], 'g-1\n', [0x30, 0x30], STOP));
    expect(r.error).toBeUndefined();
    expect(r.scan.anomalies).toEqual([
      'memo index 99999999999999999999 far beyond the 0 entries stored (picklers number entries from 0; crafted?)',
      'memo index 2000000 far beyond the 0 entries stored (picklers number entries from 0; crafted?)',
      'reads memo entry 7 that was never stored (a real unpickler would fail here)',
      'reads memo entry -1 that was never stored (a real unpickler would fail here)',
    ]);
    const full = await scan(b(proto(2), [0x4e, 0x71, 0, 0x71, 1, 0x71, 2, 0x68, 9], STOP), { maxMemo: 2 });
    expect(full.scan.anomalies).toEqual(['more than 2 memo entries; later ones not tracked']);
    expect((await scan(b(proto(2), 'pxyz\n'))).error).toBe('PUT with an invalid index at offset 2');
    expect((await scan(b(proto(2), 'p-1\n'))).error).toBe('PUT with an invalid index at offset 2');
    expect((await scan(b(proto(2), 'gxyz\n'))).error).toBe('GET with an invalid index at offset 2');
    expect((await scan(b(proto(2), [0x71, 0]))).error).toBe('memo store with an empty stack at offset 4');
  });
});

describe('pickle opcodes: bounds', () => {
  it('opcodes, stack depth, mark depth and name lines are bounded', async () => {
    expect((await scan(b(proto(2), [0x4e, 0x4e, 0x4e], STOP), { maxOpcodes: 3 })).error).toBe('more than 3 opcodes; not scanned further');
    expect((await scan(b(proto(2), [0x4e, 0x4e, 0x4e], STOP), { maxStack: 2 })).error).toBe('stack deeper than 2 entries');
    expect((await scan(b(proto(2), [0x28, 0x28, 0x28], STOP), { maxStack: 2 })).error).toBe('marks nested deeper than 2');
    expect((await scan(b('c', 'o'.repeat(70 * 1024), '\nsystem\n', STOP))).error).toBe('a name or index longer than 65536 bytes at offset 1');
  });

  it('a long text line (protocol 0 arrays) is skipped, not kept', async () => {
    const r = await scan(b('F', '1'.repeat(200_000), '\n', 'I7\n', [0x30], STOP));
    expect(r.error).toBeUndefined();
    expect(r.scan.opcodes).toBe(4);
  });

  it('a FRAME whose argument runs past its end is an anomaly, read both ways', async () => {
    const body = b(global('os', 'system'), str('id'));
    const bytes = b(proto(4), [0x95], u64(body.length - 1), body, [0x85, 0x52], STOP);
    const linear = await scan(bytes);
    expect(linear.scan.frameOverrun).toBe(true);
    expect(linear.scan.anomalies[0]).toMatch(/^an argument at offset 24 runs past the end of its FRAME \(offset 25\)/);
    expect(imports(linear.scan)).toEqual({ 'os.system': ['critical', 1, 1] });
    const file = await scan(bytes, { frames: 'file' });
    expect(file.error).toBeUndefined();
    expect(file.scan.frameOverrun).toBe(true);
    expect(imports(file.scan)).toEqual({ 'os.system': ['critical', 1, 1] });
  });
});
