/**
 * Faster, equivalent replacements for two ajv keywords, used by the CycloneDX validators
 * (the precompiled ones, scripts/gen-validators.mjs, and the run-time fallback in validate.ts).
 * Validation is never skipped: each keyword checks exactly what ajv's own does.
 *
 * - `uniqueItems`: ajv compares every pair of items with a deep equality (O(n²)) when the
 *   items are objects; on a BOM of 2,000 components that alone cost about a second
 *   (components and dependencies are both `uniqueItems` arrays). `firstDuplicate` finds
 *   deep-equal items in linear time.
 * - `enum`: ajv scans large enums (the ~700 SPDX license ids) with a deep-equal call per
 *   value; an enum of strings, numbers, booleans and null is a Set lookup instead.
 */
import { createRequire } from 'node:module';
import type { Code, CodeKeywordDefinition, KeywordCxt } from 'ajv';

const require = createRequire(import.meta.url);
/** ajv's code builders (a CommonJS package, required: import() of it differs once bundled). */
const ajvCodegen = () => require('ajv') as typeof import('ajv');

/**
 * Indices `[j, i]` (j < i) of the first pair of deep-equal JSON items found, or undefined
 * when all items are distinct. Exact JSON deep equality, as ajv's own check:
 * - a few items: compared pairwise (most arrays in a BOM: hashes, properties, dependsOn);
 * - primitives: a Map keyed by the value itself (SameValueZero is `===` on JSON values);
 * - objects and arrays: a cheap "shallow" key (sorted keys and primitive values; it may
 *   collide, never differ, for deep-equal items), then only items whose shallow keys
 *   collide are compared exactly, by canonical JSON text (keys sorted at every level).
 * Self-contained on purpose: the validator generator writes this function's source into the
 * standalone validator modules.
 */
export function firstDuplicate(items: unknown[]): [number, number] | undefined {
  const n = items.length;
  if (n < 2) return undefined;
  const equal = (a: unknown, b: unknown): boolean => {
    if (a === b) return true;
    if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
    if (Array.isArray(a)) {
      if (!Array.isArray(b) || a.length !== b.length) return false;
      for (let k = 0; k < a.length; k++) if (!equal(a[k], b[k])) return false;
      return true;
    }
    if (Array.isArray(b)) return false;
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    for (const k of ka) {
      if (!Object.hasOwn(b, k) || !equal((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
    }
    return true;
  };
  if (n <= 8) {
    for (let i = 1; i < n; i++) for (let j = 0; j < i; j++) if (equal(items[j], items[i])) return [j, i];
    return undefined;
  }
  const canonical = (v: unknown): string => {
    if (v === null || typeof v !== 'object') return String(JSON.stringify(v));
    if (Array.isArray(v)) {
      let s = '[';
      for (let k = 0; k < v.length; k++) s += (k ? ',' : '') + canonical(v[k]);
      return `${s}]`;
    }
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o).sort();
    let s = '{';
    for (let k = 0; k < keys.length; k++) s += (k ? ',' : '') + JSON.stringify(keys[k]) + ':' + canonical(o[keys[k]!]);
    return `${s}}`;
  };
  const primitives = new Map<unknown, number>();
  const firstByShallow = new Map<string, number>();
  let exact: Map<string, number> | undefined;
  const inExact = new Set<number>();
  for (let i = 0; i < n; i++) {
    const v = items[i];
    if (v === null || typeof v !== 'object') {
      const j = primitives.get(v);
      if (j !== undefined) return [j, i];
      primitives.set(v, i);
      continue;
    }
    let key: string;
    if (Array.isArray(v)) key = `\u0002${v.length}`;
    else {
      const o = v as Record<string, unknown>;
      const keys = Object.keys(o);
      if (keys.length > 1) keys.sort();
      key = '\u0003';
      for (const k of keys) {
        const x = o[k];
        key += `${k}\u0001${typeof x === 'object' && x !== null ? (Array.isArray(x) ? '\u0002' : '\u0003') : String(x)}\u0001`;
      }
    }
    const first = firstByShallow.get(key);
    if (first === undefined) {
      firstByShallow.set(key, i);
      continue;
    }
    exact ??= new Map();
    if (!inExact.has(first)) {
      exact.set(canonical(items[first]), first);
      inExact.add(first);
    }
    const full = canonical(v);
    const j = exact.get(full);
    if (j !== undefined) return [j, i];
    exact.set(full, i);
  }
  return undefined;
}

/**
 * The `uniqueItems` keyword for ajv, calling `firstDuplicate`. `requireCode` is how a
 * standalone validator module loads the function (e.g. _`require("./unique-items.cjs")`);
 * compiled in-process, the function is referenced directly.
 */
export async function uniqueItemsKeyword(requireCode?: Code): Promise<CodeKeywordDefinition> {
  const { _, str } = ajvCodegen();
  const ref = firstDuplicate;
  return {
    keyword: 'uniqueItems',
    type: 'array',
    schemaType: 'boolean',
    error: {
      message: ({ params }) => str`must NOT have duplicate items (items ## ${params.j} and ${params.i} are identical)`,
      params: ({ params }) => _`{i: ${params.i}, j: ${params.j}}`,
    },
    code(cxt: KeywordCxt) {
      const { gen, data, schema } = cxt;
      if (!schema) return;
      const fn = gen.scopeValue('func', requireCode ? { ref, code: requireCode } : { ref });
      // Most arrays in a BOM hold one item: no call for those.
      const dup = gen.const('dup', _`${data}.length < 2 ? undefined : ${fn}(${data})`);
      cxt.setParams({ i: _`${dup}[1]`, j: _`${dup}[0]` });
      cxt.fail(_`${dup} !== undefined`);
    },
  };
}

/** Enums shorter than this stay ajv's inline `===` chain, already fast. */
const SET_ENUM_MIN = 16;

/**
 * The `enum` keyword: a Set lookup for large enums of primitives (JSON deep equality of a
 * value with a primitive is `===`, which is what Set membership tests), ajv's own code
 * for everything else.
 */
export async function enumKeyword(): Promise<CodeKeywordDefinition> {
  const { _, stringify } = ajvCodegen();
  // A CommonJS module with __esModule: the definition is `exports.default`.
  const ajvEnum = (require('ajv/dist/vocabularies/validation/enum.js') as { default: CodeKeywordDefinition }).default;
  if (ajvEnum?.keyword !== 'enum' || typeof ajvEnum.code !== 'function') {
    throw new Error('ajv enum keyword not found: cannot build the CycloneDX validators');
  }
  return {
    ...ajvEnum,
    code(cxt: KeywordCxt) {
      const { gen, data, schema, $data } = cxt;
      const primitives =
        !$data &&
        Array.isArray(schema) &&
        schema.length >= SET_ENUM_MIN &&
        schema.every((v) => v === null || (typeof v !== 'object' && typeof v !== 'function'));
      if (!primitives) {
        ajvEnum.code(cxt, 'enum' as never);
        return;
      }
      const set = gen.scopeValue('obj', { ref: new Set(schema as unknown[]), code: _`new Set(${stringify(schema)})` });
      cxt.fail(_`!${set}.has(${data})`);
    },
  };
}
