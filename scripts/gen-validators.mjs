// Precompiles the official CycloneDX JSON schemas (as shipped in @cyclonedx/cyclonedx-library,
// the same files and ajv options its JsonStrictValidator uses) into standalone validator
// modules, so `aibom build` validates every BOM without paying ~0.4 s of schema compilation
// per run. Output: generated/validators/bom-<version>.cjs (not committed; built by `npm ci`).
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv, { _ } from 'ajv';
import addFormats from 'ajv-formats';
import standaloneCode from 'ajv/dist/standalone/index.js';
// Built by tsc before this script runs (scripts/build.mjs): faster, equivalent keywords.
import { enumKeyword, firstDuplicate, uniqueItemsKeyword } from '../dist/src/bom/ajv-keywords.js';

const require = createRequire(import.meta.url);
const here = dirname(fileURLToPath(import.meta.url));
const outDir = resolve(here, '..', 'generated', 'validators');
const cdxRoot = dirname(require.resolve('@cyclonedx/cyclonedx-library/package.json'));
const schemaDir = join(cdxRoot, 'res', 'schema');
const load = (f) => JSON.parse(readFileSync(join(schemaDir, f), 'utf8'));

const shared = {
  'http://cyclonedx.org/schema/spdx.SNAPSHOT.schema.json': load('spdx.SNAPSHOT.schema.json'),
  'http://cyclonedx.org/schema/jsf-0.82.SNAPSHOT.schema.json': load('jsf-0.82.SNAPSHOT.schema.json'),
  'http://cyclonedx.org/schema/cryptography-defs.SNAPSHOT.schema.json': load('cryptography-defs.SNAPSHOT.schema.json'),
};

mkdirSync(outDir, { recursive: true });
writeFileSync(
  join(outDir, 'formats.cjs'),
  `'use strict';
module.exports = {
  ...require('ajv-formats/dist/formats').fullFormats,
  // Loaded on first use: its e-mail grammar (nearley) is rarely needed to check a BOM.
  'idn-email': (value) => require('ajv-formats-draft2019/formats/idn-email.js')(value),
  'iri-reference': true,
};
`,
);
// ajv's uniqueItems is O(n²) on arrays of objects (components, dependencies) and its large
// enums (SPDX ids) scan linearly: replaced by equivalent checks (src/bom/ajv-keywords.ts);
// the uniqueItems function's source is written here for the standalone modules to require.
writeFileSync(join(outDir, 'unique-items.cjs'), `'use strict';\nmodule.exports = ${firstDuplicate.toString()};\n`);
const uniqueItems = await uniqueItemsKeyword(_`require("./unique-items.cjs")`);
const enumDef = await enumKeyword();
for (const version of ['1.4', '1.5', '1.6', '1.7']) {
  const ajv = new Ajv({
    // The options of @cyclonedx/cyclonedx-library's JSON validator.
    useDefaults: false,
    strict: false,
    strictSchema: false,
    addUsedSchema: false,
    schemas: shared,
    loadSchema: (uri) => {
      throw new Error(`Remote schemas are disabled: ${uri}`);
    },
    allErrors: true,
    code: { source: true, lines: false, optimize: true },
  });
  // Formats as the library sets them up (ajv-formats, idn-email from ajv-formats-draft2019,
  // iri-reference accepted), referenced by code so the standalone module can require them.
  ajv.opts.code.formats = _`require("./formats.cjs")`;
  addFormats(ajv);
  ajv.addFormat('idn-email', require('ajv-formats-draft2019/formats/idn-email.js'));
  ajv.addFormat('iri-reference', true);
  ajv.removeKeyword('uniqueItems');
  ajv.addKeyword(uniqueItems);
  ajv.removeKeyword('enum');
  ajv.addKeyword(enumDef);
  const validate = ajv.compile(load(`bom-${version}.SNAPSHOT.schema.json`));
  const code = standaloneCode(ajv, validate);
  const file = join(outDir, `bom-${version}.cjs`);
  writeFileSync(`${file}.tmp`, code);
  try {
    selfCheck(`${file}.tmp`, version);
  } catch (err) {
    rmSync(`${file}.tmp`, { force: true });
    throw err;
  }
  renameSync(`${file}.tmp`, file);
}

/**
 * Fail closed: a generated validator must accept a valid BOM and reject each kind of invalid
 * one (enum, large SPDX enum, uniqueItems, type, required), or the build stops here.
 */
function selfCheck(file, version) {
  const mod = require(file);
  const validate = typeof mod === 'function' ? mod : mod.default;
  const bom = (components) => ({ bomFormat: 'CycloneDX', specVersion: version, version: 1, components });
  const lib = (name, extra = {}) => ({ type: 'library', name, version: '1.0.0', ...extra });
  const mit = { licenses: [{ license: { id: 'MIT' } }] };
  const cases = [
    [true, bom([lib('a', mit), lib('b', mit)])],
    [false, bom([lib('a'), { ...lib('b'), type: 'no-such-type' }])],
    [false, bom([lib('a', { licenses: [{ license: { id: 'NOT-AN-SPDX-ID' } }] })])],
    [false, bom([lib('a', mit), lib('b'), Object.fromEntries(Object.entries(lib('a', mit)).reverse())])],
    [false, bom([lib('a', { hashes: [{ alg: 'SHA-256', content: 'not-hex' }] })])],
    [false, bom([{ type: 'library' }])],
    [true, { ...bom([]), metadata: { authors: [{ name: 'a', email: 'a@example.org' }] } }],
    [false, { ...bom([]), metadata: { authors: [{ name: 'a', email: 'not an e-mail address' }] } }],
  ];
  for (const [expected, doc] of cases) {
    if (validate(doc) !== expected) {
      throw new Error(`generated validator for CycloneDX ${version} is wrong on ${JSON.stringify(doc)}`);
    }
  }
}
console.log(`precompiled CycloneDX validators in ${outDir}`);
