// Precompiles the official CycloneDX JSON schemas (as shipped in @cyclonedx/cyclonedx-library,
// the same files and ajv options its JsonStrictValidator uses) into standalone validator
// modules, so `aibom build` validates every BOM without paying ~0.4 s of schema compilation
// per run. Output: generated/validators/bom-<version>.cjs (not committed; built by `npm ci`).
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv, { _ } from 'ajv';
import addFormats from 'ajv-formats';
import standaloneCode from 'ajv/dist/standalone/index.js';
// Built by tsc before this script runs (scripts/build.mjs): the linear-time uniqueItems.
import { firstDuplicate, uniqueItemsKeyword } from '../dist/src/bom/unique-items.js';

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
  'idn-email': require('ajv-formats-draft2019/formats/idn-email.js'),
  'iri-reference': true,
};
`,
);
// ajv's uniqueItems is O(n²) on arrays of objects (components, dependencies): replaced by an
// equivalent linear check (src/bom/unique-items.ts), whose source is written here.
writeFileSync(join(outDir, 'unique-items.cjs'), `'use strict';\nmodule.exports = ${firstDuplicate.toString()};\n`);
const uniqueItems = await uniqueItemsKeyword(_`require("./unique-items.cjs")`);
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
  const validate = ajv.compile(load(`bom-${version}.SNAPSHOT.schema.json`));
  const code = standaloneCode(ajv, validate);
  const file = join(outDir, `bom-${version}.cjs`);
  writeFileSync(`${file}.tmp`, code);
  renameSync(`${file}.tmp`, file);
}
console.log(`precompiled CycloneDX validators in ${outDir}`);
