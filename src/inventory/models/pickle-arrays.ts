import { OTHER, type PickleMachine, type V } from './pickle-machine.js';
import { emptyScan } from './pickle-scan.js';
import { bufferSource, FormatError } from './reader.js';

/**
 * BUILD on the objects the scan tracks: a numpy dtype's state (item size, structured fields)
 * and joblib's NumpyArrayWrapper, which is followed in the stream by its array's bytes (raw
 * data, or a nested pickle for object arrays). joblib's unpickler reads them there; so does
 * this scan.
 */

const JOBLIB_WRAPPERS = new Set(['joblib.numpy_pickle.NumpyArrayWrapper', 'sklearn.externals.joblib.numpy_pickle.NumpyArrayWrapper']);
/** Bytes of a joblib array probed as pickle opcodes (what a plain pickle.load would run). */
const ARRAY_PROBE_BYTES = 64 * 1024;

type Dtype = Extract<V, { k: 'dtype' }>;

/** BUILD: obj.__setstate__(state) or obj.__dict__.update(state). */
export async function build(m: PickleMachine): Promise<void> {
  const state = m.pop();
  const obj = m.top();
  if (obj?.k === 'dtype' && state.k === 't') setDtypeState(obj, state.items);
  else if (obj?.k === 'inst' && JOBLIB_WRAPPERS.has(obj.cls)) {
    await joblibArray(m, state);
    m.stack[m.stack.length - 1] = OTHER;
  }
}

/** numpy's dtype state: (version, byteorder, subarray, names, fields, elsize, alignment, flags). */
function setDtypeState(dt: Dtype, state: V[]): void {
  const elsize = state[5];
  if (elsize?.k === 'i') dt.elsize = Number(elsize.v);
  const fields = state[4];
  if (fields && fields.k !== 'n') dt.fields = fieldsHoldObjects(fields, state[7]);
  if (state[2] && state[2].k !== 'n') dt.fields = 'unknown';
}

/**
 * Whether a structured dtype's fields ({name: (dtype, offset[, title])}) hold Python objects:
 * `plain` only when every field is a tracked dtype without objects and the dtype's flags
 * (bit 0: holds references) agree; anything untracked or contradictory is `unknown`.
 */
function fieldsHoldObjects(fields: V, flags: V | undefined): 'objects' | 'plain' | 'unknown' {
  if (fields.k !== 'd' || flags?.k !== 'i') return 'unknown';
  let objects = false;
  for (const f of fields.map.values()) {
    const dt = f.k === 't' ? f.items[0] : undefined;
    if (dt?.k !== 'dtype') return 'unknown';
    if (dt.fields === 'unknown') return 'unknown';
    if (dt.fields === 'objects' || /^[|<>=]?O/.test(dt.descr)) objects = true;
  }
  const flagged = (flags.v & 1n) === 1n;
  if (flagged !== objects) return 'unknown';
  return objects ? 'objects' : 'plain';
}

/** Bytes per item of a numpy dtype string ('<f8', 'U10', 'b1', ...), or undefined. */
export function dtypeItemSize(descr: string): number | undefined {
  const m = /^[|<>=]?([?bhilqpBHILQPefdgFDGbiufcmMSaUV])(\d*)(?:\[[a-zA-Z0-9]+\])?$/.exec(descr);
  if (!m) return undefined;
  const [, t, digits] = m;
  const n = digits ? Number(digits) : undefined;
  if (t === 'U') return n === undefined ? undefined : n * 4;
  if ('SaV'.includes(t!)) return n;
  if (n !== undefined) return 'biufcmM'.includes(t!) ? n : undefined;
  const single: Record<string, number> = { '?': 1, b: 1, B: 1, h: 2, H: 2, i: 4, I: 4, l: 8, L: 8, q: 8, Q: 8, p: 8, P: 8, e: 2, f: 4, d: 8, g: 16, F: 8, D: 16, G: 32 };
  return single[t!];
}

/** A joblib array header ({dtype, shape, numpy_array_alignment_bytes, ...}), checked. */
interface ArrayHeader {
  dtype: Dtype;
  shape: V | undefined;
  aligned: boolean;
}

/**
 * joblib writes each numpy array as a NumpyArrayWrapper object followed, right after its
 * BUILD, by the array itself: raw bytes (after an alignment padding) or, for object arrays,
 * a nested pickle.
 */
async function joblibArray(m: PickleMachine, state: V): Promise<void> {
  const fail = (why: string): never => {
    throw new FormatError(`joblib array at offset ${m.src.pos}: ${why}; the rest cannot be located`);
  };
  const header = arrayHeader(state, fail);
  m.scan.joblibArrays++;
  if (/^[|<>=]?O/.test(header.dtype.descr)) {
    if (m.nesting <= 0) fail('object arrays nested too deep');
    await m.scanMore(m.src, m.scan, { ...m.limits, nesting: m.nesting - 1 });
    return;
  }
  await rawArray(m, header, fail);
}

function arrayHeader(state: V, fail: (why: string) => never): ArrayHeader {
  if (state.k !== 'd') fail('its header is not a dict');
  const map = (state as { map: Map<string, V> }).map;
  const dtype = map.get('dtype');
  if (dtype?.k !== 'dtype') fail('no numpy dtype in its header');
  return { dtype: dtype as Dtype, shape: map.get('shape'), aligned: map.get('numpy_array_alignment_bytes')?.k === 'i' };
}

/** A plain array's bytes: sized from dtype and shape, probed as opcodes, then skipped. */
async function rawArray(m: PickleMachine, header: ArrayHeader, fail: (why: string) => never): Promise<void> {
  const { dtype: dt, shape } = header;
  if (dt.fields === 'objects' || dt.fields === 'unknown') fail('a structured dtype whose fields may hold objects');
  const itemsize = dt.elsize !== undefined && dt.elsize > 0 ? dt.elsize : dtypeItemSize(dt.descr);
  if (itemsize === undefined) fail(`unknown dtype ${JSON.stringify(dt.descr)}`);
  if (shape?.k !== 't' || !shape.items.every((x) => x.k === 'i' && x.v >= 0n)) fail('its shape is not a tuple of sizes');
  let count = 1n;
  for (const x of (shape as { items: V[] }).items) count *= (x as { v: bigint }).v;
  if (header.aligned) {
    await m.need(1);
    await m.skipArg(m.src.u8());
  }
  const bytes = count * BigInt(itemsize!);
  if (bytes > BigInt(Math.min(m.src.remaining, Number.MAX_SAFE_INTEGER))) fail(`${bytes} bytes of array data run past the end`);
  const n = Number(bytes);
  await probeArrayBytes(m, n);
  await m.skipArg(n);
}

/** A plain pickle.load (not joblib's) would run an array's bytes as opcodes: scan their start too. */
async function probeArrayBytes(m: PickleMachine, n: number): Promise<void> {
  const probe = await m.src.peekUpTo(Math.min(n, ARRAY_PROBE_BYTES));
  if (probe.length === 0 || m.nesting <= 0) return;
  const sub = emptyScan();
  try {
    await m.scanMore(bufferSource(probe), sub, { maxOpcodes: 10_000, nesting: 0 });
  } catch {
    // data, as expected
  }
  for (const [k, imp] of sub.imports) {
    if (!m.scan.imports.has(k)) m.scan.imports.set(k, imp);
    m.anomaly(`joblib array data at offset ${m.src.pos} reads as pickle opcodes importing ${k} (what a plain pickle.load would run)`);
  }
}
