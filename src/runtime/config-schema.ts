/** Checking a runtime hook config against schemas/aibom-runtime.schema.json (precompiled). */
import { schemaValidator } from '../util/precompiled.js';

/** Problems in words (`pointer: message`), empty when valid. */
export function validateRuntimeConfig(data: unknown): string[] {
  const validate = schemaValidator('runtime-config', 'aibom-runtime.schema.json');
  if (validate(data)) return [];
  return (validate.errors ?? []).slice(0, 10).map((e) => {
    const where = e.instancePath ? e.instancePath.slice(1).replace(/\//g, '.') : '(top level)';
    if (e.keyword === 'additionalProperties') return `${where}: unknown key "${String(e.params.additionalProperty)}"`;
    return `${where}: ${e.message ?? e.keyword}`;
  });
}
