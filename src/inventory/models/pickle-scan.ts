/**
 * What a pickle scan records (the result), and how it may read: shared by the opcode machine
 * (pickle-machine.ts), its opcode table (pickle-opcodes.ts) and the callers of scanPickle.
 */

import type { ImportVerdict } from './pickle-policy.js';

export interface PickleImport {
  module: string;
  name: string;
  verdict: ImportVerdict;
  /** How many times the pickle calls it (REDUCE / NEWOBJ / OBJ / INST). */
  calls: number;
  /** Of those, calls with arbitrary arguments (REDUCE / OBJ / INST), not `cls.__new__` (NEWOBJ). */
  directCalls: number;
}

export interface PickleScan {
  /** module.name → import. */
  imports: Map<string, PickleImport>;
  /** Calls of a callable that is not a named import (computed at load time). */
  unnamedCalls: number;
  /** STACK_GLOBAL imports whose module or name is not a constant string. */
  dynamicImports: number;
  /** copyreg extension-registry imports (EXT1/2/4): the callable cannot be named from the file. */
  extensionImports: number;
  anomalies: string[];
  protocol?: number;
  opcodes: number;
  /** The pickle's first value, when it is a constant integer (torch's legacy magic number). */
  firstInt?: bigint;
  /** An opcode argument ran past the end of its FRAME: CPython's readers disagree on what follows. */
  frameOverrun: boolean;
  /** joblib NumpyArrayWrapper arrays whose raw bytes were skipped (or whose nested pickle was scanned). */
  joblibArrays: number;
  /**
   * Byte strings the pickle hands to a loader of more pickles (torch.storage._load_from_bytes:
   * a torch.save stream): offsets in this pickle's input, for the caller to scan as files.
   */
  nested: NestedBytes[];
}

/** Bytes inside a pickle: at `at` for `len` bytes of input (UTF-8 text to re-encode as latin-1 when `utf8`), or `data` itself. */
export interface NestedBytes {
  at: number;
  len: number;
  utf8?: boolean;
  data?: Buffer;
}

/**
 * How the scan reads FRAMEs. `linear`: frames are transparent (pickle.loads on bytes, and the C
 * unpickler on a file while no argument crosses a frame's end). `file`: as CPython's C unpickler
 * reads a file: a frame is read into a buffer; an argument or line that runs past the end of
 * that buffer is read afresh from the bytes after the frame, and the rest of the frame is never
 * read.
 */
export type FrameReading = 'linear' | 'file';

export interface PickleLimits {
  maxOpcodes?: number;
  maxStack?: number;
  maxMemo?: number;
  frames?: FrameReading;
  /** Nested pickles (joblib object arrays) allowed below this one. */
  nesting?: number;
}

export function emptyScan(): PickleScan {
  return { imports: new Map(), unnamedCalls: 0, dynamicImports: 0, extensionImports: 0, anomalies: [], opcodes: 0, frameOverrun: false, joblibArrays: 0, nested: [] };
}
