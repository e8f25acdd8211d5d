// Precompiles aibom's own small JSON Schemas (the policy file, the in-toto statement, the
// runtime hook config) into standalone ajv validators, so the start-up check (aibom/runtime)
// and every verification of a DSSE bundle do not pay for importing ajv and compiling a schema
// in each process. Output: generated/validators/<name>.cjs (not committed; built by npm ci), each carrying the SHA-256 of the
// schema it was compiled from; src/util/precompiled.ts uses a validator only while that hash
// matches the schema file (an edited schema falls back to compiling at run time, never to a
// stale validator). Run by scripts/build.mjs; safe to run alone: `node scripts/gen-schema-validators.mjs`.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv from 'ajv';
import standaloneCode from 'ajv/dist/standalone/index.js';

const require = createRequire(import.meta.url);
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = join(root, 'generated', 'validators');

/** name → schema file in schemas/, and documents the generated validator must judge as ajv does. */
export const SCHEMAS = {
  policy: {
    schema: 'aibom-policy.schema.json',
    samples: [
      { version: 1 },
      { version: 1, release: { identity: 'a', issuer: 'b' }, publishers: [{ match: 'x-*', keyFingerprint: 'a'.repeat(64) }] },
      { version: 2 },
      { version: 1, surprise: true },
      { version: 1, exceptions: [{ component: 'x', reason: 'why', expires: 'soon' }] },
      { version: 1, publishers: [{ identity: 'a' }] },
    ],
  },
  'in-toto-statement': {
    schema: 'in-toto-statement-v1.schema.json',
    samples: [
      { _type: 'https://in-toto.io/Statement/v1', subject: [{ name: 'a', digest: { sha256: 'a'.repeat(64) } }], predicateType: 'https://x.test/p' },
      { _type: 'https://in-toto.io/Statement/v1', subject: [], predicateType: 'https://x.test/p' },
      { _type: 'https://in-toto.io/Statement/v1', subject: [{ name: 'a' }], predicateType: 'https://x.test/p' },
      { _type: 'https://in-toto.io/Statement/v1', subject: [{ name: 'a', digest: { sha256: 'a' } }], predicateType: 'no-scheme' },
      { subject: [{ digest: { sha256: 'ab' } }], predicateType: 'x:y', predicate: [] },
    ],
  },
  'aibom-config': {
    schema: 'aibom-config.schema.json',
    samples: [
      {},
      { exclude: ['dist/**'], datasets: [{ path: 'data/faq.jsonl', name: 'faq', license: 'MIT' }], plugins: { paths: ['plugins'] } },
      { services: [{ name: 'chat', endpoints: ['https://api.example.test/v1'] }] },
      { surprise: true },
      { exclude: 'dist' },
      { datasets: [{ name: 3 }] },
    ],
  },
  'runtime-config': {
    schema: 'aibom-runtime.schema.json',
    samples: [
      { bom: 'aibom.cdx.json', key: 'release.pub' },
      { bom: 'aibom.cdx.json', certificateIdentity: 'a', certificateOidcIssuer: 'b', cache: true, pluginPaths: ['plugins'] },
      { bom: 3 },
      { bom: 'a', unknown: 1 },
      { cache: 'dir', failOnMissing: 'yes' },
    ],
  },
};

function sha256(bytes) {
  return createHash('sha256').update(bytes).digest('hex');
}

mkdirSync(outDir, { recursive: true });
for (const [name, { schema, samples }] of Object.entries(SCHEMAS)) {
  const bytes = readFileSync(join(root, 'schemas', schema));
  const json = JSON.parse(bytes.toString('utf8'));
  // The options the run-time fallback compiles with (src/util/precompiled.ts).
  const ajv = new Ajv({ allErrors: true, strict: false, code: { source: true, lines: false, optimize: true } });
  const validate = ajv.compile(json);
  const code = `${standaloneCode(ajv, validate)}\nmodule.exports.schemaSha256 = ${JSON.stringify(sha256(bytes))};\n`;
  const file = join(outDir, `${name}.cjs`);
  writeFileSync(`${file}.tmp`, code);
  try {
    // Fail closed: the generated validator must agree with ajv on every sample.
    const generated = require(`${file}.tmp`);
    const fresh = new Ajv({ allErrors: true, strict: false }).compile(json);
    for (const doc of samples) {
      if (generated(doc) !== fresh(doc)) throw new Error(`generated ${name} validator disagrees with ajv on ${JSON.stringify(doc)}`);
    }
    if (!samples.some((d) => fresh(d)) || samples.every((d) => fresh(d))) throw new Error(`${name}: samples must include valid and invalid documents`);
  } catch (err) {
    rmSync(`${file}.tmp`, { force: true });
    throw err;
  }
  renameSync(`${file}.tmp`, file);
}
console.log(`precompiled ${Object.keys(SCHEMAS).join(', ')} validators in ${outDir}`);
