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
 * (scripts/gen-validators.mjs); without them it refuses to validate.
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
  if (!file) {
    // Never compiled here from the schema files of a package found at run time: the build
    // precompiles every version (npm run build), and an installation without them is broken.
    throw new AibomError('UNSUPPORTED', `no schema validator for CycloneDX ${version} in this installation of aibom (generated/validators/ is written by npm run build)`);
  }
  const mod = require(file) as CompiledValidator | { default: CompiledValidator };
  const fn = typeof mod === 'function' ? mod : mod.default;
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
