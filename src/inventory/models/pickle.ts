import { ARG_WIDTH, type ArgReader, OPCODES } from './pickle-opcodes.js';
import { PickleMachine } from './pickle-machine.js';
import type { PickleLimits, PickleScan } from './pickle-scan.js';
import { type ByteSource, FormatError } from './reader.js';

/**
 * A pickle opcode scanner. It never unpickles: it walks the opcodes (protocols 0–5), keeps an
 * abstract stack (strings, imported callables, "something else", marks) and a bounded memo so
 * that imports made by STACK_GLOBAL from memoized strings are named correctly, and records
 *  - every import (GLOBAL, STACK_GLOBAL, INST) as module.name,
 *  - which of them are called (REDUCE, NEWOBJ, NEWOBJ_EX, OBJ, INST),
 *  - calls whose target cannot be named (a callable computed at load time), and
 *  - anomalies real picklers never produce (memo indices far out of range, reads of memo entries
 *    never stored), which are how crafted files try to confuse scanners.
 * Bounded: opcodes, stack depth, memo entries, line and string lengths; lengths are checked
 * against the input before anything is skipped or read.
 *
 * The parts: the machine's state and bounded readers (pickle-machine.ts), the opcode table
 * (pickle-opcodes.ts), calls (pickle-calls.ts), numpy/joblib arrays (pickle-arrays.ts), and the
 * policy table that judges each import (pickle-policy.ts).
 */

export { dtypeItemSize } from './pickle-arrays.js';
export { emptyScan, type FrameReading, type NestedBytes, type PickleImport, type PickleLimits, type PickleScan } from './pickle-scan.js';

/**
 * Scan one pickle (up to and including its STOP) from `src` into `scan` (so that consecutive
 * pickles in one file accumulate). Throws FormatError when the pickle is malformed or a
 * bound is hit; what was recorded before that stays in `scan`.
 */
export async function scanPickle(src: ByteSource, scan: PickleScan, limits: PickleLimits = {}): Promise<void> {
  const m = new PickleMachine(src, scan, limits, scanPickle);
  while (!m.stopped) {
    if (++scan.opcodes > m.maxOps) throw new FormatError(`more than ${m.maxOps} opcodes; not scanned further`);
    const ready = m.need(1);
    if (ready) await ready;
    const at = src.pos;
    const op = src.u8();
    const spec = OPCODES[op];
    if (!spec) throw new FormatError(`invalid pickle opcode 0x${op.toString(16).padStart(2, '0')} at offset ${at}`);
    m.wasFirst = m.first;
    m.first = false;
    let arg = 0;
    if (spec.arg) {
      const argReady = m.need(ARG_WIDTH[spec.arg]);
      if (argReady) await argReady;
      arg = readArg(src, spec.arg);
    }
    const done = spec.run(m, arg, at);
    if (done) await done;
  }
}

/** An opcode's fixed-width argument, once its bytes are in the window. */
function readArg(src: ByteSource, reader: ArgReader): number {
  if (reader === 'u8') return src.u8();
  if (reader === 'u16') return src.u16le();
  if (reader === 'u32') return src.u32(true);
  return src.i32le();
}

/** Could these bytes start a pickle? (PROTO 2–5, or a protocol 0/1 opening opcode.) */
export function looksLikePickle(head: Buffer): boolean {
  if (head.length < 2) return false;
  if (head[0] === 0x80) return head[1]! >= 2 && head[1]! <= 5;
  // Protocol 0/1 pickles open with a mark, an empty container, a global or a constant.
  return [0x28, 0x7d, 0x5d, 0x29, 0x63, 0x4e].includes(head[0]!) && head.length > 2;
}
