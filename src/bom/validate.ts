import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AibomError } from '../errors.js';
import { isObject } from '../util/json.js';
import { VALIDATABLE_SPEC_VERSIONS, type ValidatableSpecVersion } from './spec.js';

export interface SchemaError {
  /** JSONPath of the offending value, e.g. `$.components[3].purl`. */
  path: string;
  message: string;
}

interface AjvError {
  instancePath: string;
  keyword: string;
  params: Record<string, unknown>;
  message?: string;
}
type CompiledValidator = ((data: unknown) => boolean) & { errors?: AjvError[] | null };

const require = createRequire(import.meta.url);
const cache = new Map<string, CompiledValidator>();

/**
 * Validate a CycloneDX JSON document against the official schema of its spec version
 * (the schema files shipped with @cyclonedx/cyclonedx-library, with the same ajv options as
 * its JsonStrictValidator). Uses the validators precompiled at install time
 * (scripts/gen-validators.mjs); compiles at run time only if they are missing.
 */
export async function validateBomJson(data: unknown, version?: string): Promise<SchemaError[]> {
  const v = version ?? specVersionOf(data);
  if (!(VALIDATABLE_SPEC_VERSIONS as readonly string[]).includes(v)) {
    throw new AibomError(
      'UNSUPPORTED',
      `CycloneDX specVersion "${v}" is not supported; aibom validates ${VALIDATABLE_SPEC_VERSIONS.join(', ')}`,
    );
  }
  const validate = await validatorFor(v as ValidatableSpecVersion);
  if (validate(data)) return [];
  return (validate.errors ?? []).map(toSchemaError);
}

export function specVersionOf(data: unknown): string {
  if (!isObject(data)) throw new AibomError('INPUT', 'not a CycloneDX BOM: top level is not an object');
  if (data.bomFormat !== 'CycloneDX') {
    throw new AibomError('INPUT', `not a CycloneDX BOM: bomFormat is ${JSON.stringify(data.bomFormat)}`);
  }
  if (typeof data.specVersion !== 'string') {
    throw new AibomError('INPUT', 'not a CycloneDX BOM: no specVersion');
  }
  return data.specVersion;
}

async function validatorFor(version: ValidatableSpecVersion): Promise<CompiledValidator> {
  const hit = cache.get(version);
  if (hit) return hit;
  const file = precompiledPath(version);
  let fn: CompiledValidator;
  if (file) {
    const mod = require(file) as CompiledValidator | { default: CompiledValidator };
    fn = typeof mod === 'function' ? mod : mod.default;
  } else {
    fn = await compileAtRuntime(version);
  }
  cache.set(version, fn);
  return fn;
}

function precompiledPath(version: string): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'generated', 'validators', `bom-${version}.cjs`);
    if (existsSync(candidate)) return candidate;
    if (existsSync(join(dir, 'package.json'))) return undefined;
    dir = dirname(dir);
  }
  return undefined;
}

/** Fallback: the library's own strict validator setup, compiled now (slow, ~0.4 s). */
async function compileAtRuntime(version: ValidatableSpecVersion): Promise<CompiledValidator> {
  const { default: Ajv } = await import('ajv');
  const { default: addFormats } = await import('ajv-formats');
  const { readFile } = await import('node:fs/promises');
  const cdxRoot = dirname(require.resolve('@cyclonedx/cyclonedx-library/package.json'));
  const load = async (f: string) => JSON.parse(await readFile(join(cdxRoot, 'res', 'schema', f), 'utf8')) as object;
  const ajv = new Ajv.default({
    useDefaults: false,
    strict: false,
    strictSchema: false,
    addUsedSchema: false,
    allErrors: true,
    schemas: {
      'http://cyclonedx.org/schema/spdx.SNAPSHOT.schema.json': await load('spdx.SNAPSHOT.schema.json'),
      'http://cyclonedx.org/schema/jsf-0.82.SNAPSHOT.schema.json': await load('jsf-0.82.SNAPSHOT.schema.json'),
      'http://cyclonedx.org/schema/cryptography-defs.SNAPSHOT.schema.json': await load(
        'cryptography-defs.SNAPSHOT.schema.json',
      ),
    },
  });
  addFormats.default(ajv);
  ajv.addFormat('idn-email', require('ajv-formats-draft2019/formats/idn-email.js'));
  ajv.addFormat('iri-reference', true);
  // The same faster, equivalent keywords as the precompiled validators (see ajv-keywords.ts).
  const { enumKeyword, uniqueItemsKeyword } = await import('./ajv-keywords.js');
  ajv.removeKeyword('uniqueItems');
  ajv.addKeyword(await uniqueItemsKeyword());
  ajv.removeKeyword('enum');
  ajv.addKeyword(await enumKeyword());
  return ajv.compile(await load(`bom-${version}.SNAPSHOT.schema.json`)) as CompiledValidator;
}

function toSchemaError(e: AjvError): SchemaError {
  let message = e.message ?? e.keyword;
  if (e.keyword === 'enum' && Array.isArray(e.params.allowedValues)) {
    message += `: ${(e.params.allowedValues as unknown[]).map((x) => JSON.stringify(x)).join(', ')}`;
  } else if (e.keyword === 'additionalProperties' && typeof e.params.additionalProperty === 'string') {
    message = `has unknown property "${e.params.additionalProperty}"`;
  }
  return { path: pointerToJsonPath(e.instancePath), message };
}

export function pointerToJsonPath(pointer: string): string {
  if (!pointer) return '$';
  let out = '$';
  for (const raw of pointer.split('/').slice(1)) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (/^\d+$/.test(seg)) out += `[${seg}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(seg)) out += `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}
