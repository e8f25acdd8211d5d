import { OTHER, type V } from './pickle-machine.js';
import type { PickleImport, PickleScan } from './pickle-scan.js';

/**
 * Calls the pickle makes (REDUCE, NEWOBJ, NEWOBJ_EX, OBJ, INST): each is counted on the import
 * it calls, or as an unnamed call when the callee was computed at load time. A few named
 * callees have an effect the scan follows (CALL_EFFECTS, a table): what they build is tracked
 * for numpy dtypes and joblib wrappers, or they hand bytes or a callable on to be judged.
 */

/** What calling one known callable means for the scan; undefined: it builds an instance of itself. */
type CallEffect = (args: V | undefined, imp: PickleImport, scan: PickleScan) => V | undefined;

/** A tracked tuple's items, when the arguments are one. */
function items(args: V | undefined): V[] | undefined {
  return args?.k === 't' ? args.items : undefined;
}

const CALL_EFFECTS = new Map<string, CallEffect>([
  // numpy.dtype('<f8', ...): a dtype the joblib array reader sizes arrays with.
  [
    'numpy.dtype',
    (args) => {
      const descr = items(args)?.[0];
      return descr?.k === 's' ? { k: 'dtype', descr: descr.s } : undefined;
    },
  ],
  // torch.load on bytes in the pickle: scanned as a file of its own, when the bytes are a constant.
  [
    'torch.storage._load_from_bytes',
    (args, imp, scan) => {
      const list = items(args);
      const b = list?.length === 1 ? list[0] : undefined;
      if (b?.k === 'bytes' && scan.nested.length < 64) {
        const { k: _k, ...nested } = b;
        scan.nested.push(nested);
      } else imp.verdict = 'critical';
      return undefined;
    },
  ],
  // Protocol 2 writes bytes as _codecs.encode(text, 'latin1').
  [
    '_codecs.encode',
    (args) => {
      const list = items(args);
      const codec = list?.[1];
      if (codec?.k !== 's' || !/^latin-?1$/i.test(codec.s)) return undefined;
      const t = list![0];
      if (t?.k === 's') return { k: 'bytes', at: 0, len: t.s.length, data: Buffer.from(t.s, 'latin1') };
      if (t?.k === 'text') return { k: 'bytes', at: t.at, len: t.len, utf8: true };
      return undefined;
    },
  ],
  // copyreg._reconstructor(cls, base, state) runs base.__init__(obj, state) when state is given.
  [
    'copyreg._reconstructor',
    (args, _imp, scan) => {
      const base = items(args)?.[1];
      if (base?.k === 'g' && base.name !== 'builtins.object') {
        const b = scan.imports.get(base.name)!;
        b.calls++;
        b.directCalls++;
      } else if (base?.k !== 'g') scan.unnamedCalls++;
      return undefined;
    },
  ],
]);

/**
 * Call `callee` (`direct`: with arguments of the pickle's choosing, not `cls.__new__`); returns
 * what the call builds.
 */
export function call(scan: PickleScan, callee: V, direct: boolean, args?: V): V {
  if (callee.k !== 'g') {
    scan.unnamedCalls++;
    return OTHER;
  }
  const imp = scan.imports.get(callee.name)!;
  imp.calls++;
  if (direct) imp.directCalls++;
  return CALL_EFFECTS.get(callee.name)?.(args, imp, scan) ?? { k: 'inst', cls: callee.name };
}
