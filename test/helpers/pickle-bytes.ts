/** Raw pickle opcodes for crafted test files (what an attacker writes by hand). */

export const STOP = Buffer.from('.');

export function proto(v: number): Buffer {
  return Buffer.from([0x80, v]);
}

/** GLOBAL module\nname\n */
export function global(module: string, name: string): Buffer {
  return Buffer.from(`c${module}\n${name}\n`, 'latin1');
}

/** SHORT_BINUNICODE */
export function str(s: string): Buffer {
  const b = Buffer.from(s, 'utf8');
  return Buffer.concat([Buffer.from([0x8c, b.length]), b]);
}

/** TUPLE1 then REDUCE: call the callable below the argument with it. */
export function reduce1(): Buffer {
  return Buffer.from([0x85, 0x52]);
}

/** FRAME with the body's length, then the body. */
export function frame(body: Buffer): Buffer {
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(body.length));
  return Buffer.concat([Buffer.from([0x95]), len, body]);
}

/** LONG1 opcode and its length byte only: the `n` bytes of the number come from what follows. */
export function long1(n: number): Buffer {
  return Buffer.from([0x8a, n]);
}
