/**
 * JSON Schema `uniqueItems` in linear time, for the CycloneDX validators.
 *
 * ajv checks `uniqueItems` on arrays of objects by comparing every pair with a deep equality
 * (O(n²)): on a BOM of 2,000 components that alone costs about a second (components and
 * dependencies are both `uniqueItems` arrays). Here each item is reduced to a canonical
 * JSON text (object keys sorted) and looked up in a Map: two JSON values are deep-equal
 * exactly when their canonical texts are equal, so the check is the same, only faster.
 * The keyword replaces ajv's own `uniqueItems` (same name, same error message), both in the
 * precompiled validators (scripts/gen-validators.mjs) and in the run-time fallback.
 */
import type { Code, CodeKeywordDefinition, KeywordCxt } from 'ajv';

/**
 * Indices `[j, i]` (j < i) of the first pair of deep-equal items, or undefined when all
 * items are distinct. Self-contained on purpose: the validator generator writes this
 * function's source into the standalone validator modules.
 */
export function firstDuplicate(items: unknown[]): [number, number] | undefined {
  if (items.length < 2) return undefined;
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
  const seen = new Map<string, number>();
  for (let i = 0; i < items.length; i++) {
    const key = canonical(items[i]);
    const j = seen.get(key);
    if (j !== undefined) return [j, i];
    seen.set(key, i);
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
