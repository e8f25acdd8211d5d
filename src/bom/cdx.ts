/**
 * The parts of @cyclonedx/cyclonedx-library aibom builds BOMs with, loaded as CommonJS from
 * the package's sub-path exports. `import * as CDX from '@cyclonedx/cyclonedx-library'` also
 * loads the library's validators (ajv and its formats) and XML serializers, and importing a
 * CommonJS package from ESM makes Node lex every re-exported file: together about 50 ms at
 * every start of the CLI, for code aibom never runs (it validates with its own precompiled
 * validators, src/bom/validate.ts). Types come from `import type` of the package as usual.
 */
import { createRequire } from 'node:module';
import type * as Lib from '@cyclonedx/cyclonedx-library';

const require = createRequire(import.meta.url);

export const Models = require('@cyclonedx/cyclonedx-library/Models') as typeof Lib.Models;
export const Enums = require('@cyclonedx/cyclonedx-library/Enums') as typeof Lib.Enums;
export const Spec = require('@cyclonedx/cyclonedx-library/Spec') as typeof Lib.Spec;
export const Serialize = require('@cyclonedx/cyclonedx-library/Serialize') as typeof Lib.Serialize;

/** The license factories, loaded on first use (only BOMs with licenses need them). */
export function licenseContrib(): typeof Lib.Contrib.License {
  return require('@cyclonedx/cyclonedx-library/Contrib/License') as typeof Lib.Contrib.License;
}
