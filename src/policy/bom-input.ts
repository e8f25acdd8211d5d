import { validateBomJson } from '../bom/validate.js';
import { AibomError } from '../errors.js';

/** Schema errors listed in the message; the rest are counted. */
const MAX_LISTED = 20;

/**
 * A BOM given to the gate is hostile input: it must be valid CycloneDX for its spec version
 * before anything reads it (`components` as an object, a model without a name or a hash that
 * is not hex is never read as "0 components"). Duplicate keys are refused earlier, by the
 * JSON reader (src/util/json.ts). Throws INVALID_BOM (exit 1) listing the schema errors.
 */
export async function assertValidBom(bom: Record<string, unknown>, file: string): Promise<void> {
  let errors: Awaited<ReturnType<typeof validateBomJson>>;
  try {
    errors = await validateBomJson(bom);
  } catch (err) {
    if (err instanceof AibomError) throw new AibomError(err.code, err.message, { file, cause: err });
    throw err;
  }
  if (!errors.length) return;
  const listed = errors.slice(0, MAX_LISTED).map((e) => `${e.path}: ${e.message}`);
  if (errors.length > MAX_LISTED) listed.push(`and ${errors.length - MAX_LISTED} more`);
  throw new AibomError(
    'INVALID_BOM',
    `not a valid CycloneDX ${String(bom.specVersion)} BOM (${errors.length} schema error${errors.length > 1 ? 's' : ''}); the gate does not judge it:\n  ${listed.join('\n  ')}`,
    { file },
  );
}
