/**
 * Validators for aibom's own JSON Schemas, precompiled by scripts/gen-schema-validators.mjs
 * into generated/validators/<name>.cjs so a process does not import ajv and compile a schema
 * to read one small file. A precompiled validator is used only while the SHA-256 it records
 * equals the schema file's (an edited schema is compiled at run time instead, never checked
 * by a stale validator).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { packageRoot } from './package-root.js';

export type SchemaValidator = ((data: unknown) => boolean) & {
  errors?: Array<{ instancePath: string; keyword: string; message?: string; params: Record<string, unknown> }> | null;
};

const cache = new Map<string, SchemaValidator>();

/** The validator of schemas/<schemaFile>: precompiled `name` when current, else compiled now with ajv. */
export function schemaValidator(name: string, schemaFile: string): SchemaValidator {
  const hit = cache.get(name);
  if (hit) return hit;
  const root = packageRoot();
  const schemaBytes = readFileSync(join(root, 'schemas', schemaFile));
  const generated = join(root, 'generated', 'validators', `${name}.cjs`);
  const require = createRequire(import.meta.url);
  let fn: SchemaValidator | undefined;
  if (existsSync(generated)) {
    const mod = require(generated) as SchemaValidator & { schemaSha256?: string };
    if (mod.schemaSha256 === createHash('sha256').update(schemaBytes).digest('hex')) fn = mod;
  }
  if (!fn) {
    // ajv is CommonJS; its default export is the class. Same options as the generator.
    const AjvMod = require('ajv') as { default: new (opts: Record<string, unknown>) => { compile(s: unknown): SchemaValidator } };
    fn = new AjvMod.default({ allErrors: true, strict: false }).compile(JSON.parse(schemaBytes.toString('utf8')) as unknown);
  }
  cache.set(name, fn);
  return fn;
}
