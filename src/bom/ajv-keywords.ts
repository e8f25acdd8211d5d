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
import type { Code, CodeKeywordDefinition, KeywordCxt } from 'ajv';

/**
 * Indices `[j, i]` (j < i) of the first pair of deep-equal JSON items, or undefined when all
 * items are distinct. Each item gets a cheap "shallow" key (sorted keys, primitive values,
 * the sizes of nested values) that deep-equal items always share; only items whose shallow
 * keys collide are compared exactly, by canonical JSON text (keys sorted at every level).
 * Two JSON values are deep-equal exactly when their canonical texts are equal.
 * Self-contained on purpose: the validator generator writes this function's source into
 * the standalone validator modules.
 */
export function firstDuplicate(items: unknown[]): [number, number] | undefined {
  const n = items.length;
  if (n < 2) return undefined;
  const scalar = (v: unknown): string => String(JSON.stringify(v));
  const canonical = (v: unknown): string => {
    if (v === null || typeof v !== 'object') return scalar(v);
    if (Array.isArray(v)) {
      let s = '[';
      for (let k = 0; k < v.length; k++) s += (k ? ',' : '') + canonical(v[k]);
      return `${s}]`;
    }
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o).sort();
    let s = '{';
    for (let k = 0; k < keys.length; k++) s += (k ? ',' : '') + scalar(keys[k]) + ':' + canonical(o[keys[k]!]);
    return `${s}}`;
  };
  const shallow = (v: unknown): string => {
    if (v === null || typeof v !== 'object') return scalar(v);
    if (Array.isArray(v)) return `[${v.length}`;
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o).sort();
    let s = '{';
    for (let k = 0; k < keys.length; k++) {
      const x = o[keys[k]!];
      s += scalar(keys[k]) + ':';
      if (x === null || typeof x !== 'object') s += scalar(x);
      else if (Array.isArray(x)) s += `[${x.length}`;
      else s += `{${Object.keys(x).length}`;
      s += ',';
    }
    return s;
  };
  // shallow key → index of the first item with it, and whether that item is in `exact` yet
  const firstByShallow = new Map<string, { index: number; inExact: boolean }>();
  const exact = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const key = shallow(items[i]);
    const first = firstByShallow.get(key);
    if (first === undefined) {
      firstByShallow.set(key, { index: i, inExact: false });
      continue;
    }
    if (!first.inExact) {
      exact.set(canonical(items[first.index]), first.index);
      first.inExact = true;
    }
    const full = canonical(items[i]);
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
  const { _, str } = await import('ajv');
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
      const dup = gen.const('dup', _`${fn}(${data})`);
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
  const { _, stringify } = await import('ajv');
  // A CommonJS module with __esModule: the definition is `exports.default`.
  const mod = (await import('ajv/dist/vocabularies/validation/enum.js')) as unknown as {
    default: CodeKeywordDefinition | { default: CodeKeywordDefinition };
  };
  const ajvEnum = 'default' in mod.default ? mod.default.default : mod.default;
  if (ajvEnum.keyword !== 'enum' || typeof ajvEnum.code !== 'function') {
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
