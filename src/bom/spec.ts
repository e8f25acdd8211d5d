import type * as CDX from '@cyclonedx/cyclonedx-library';
import { AibomError } from '../errors.js';
import * as cdx from './cdx.js';

type SpecProtocol = typeof CDX.Spec.Spec1dot6;

/** The CycloneDX spec versions aibom writes. The version is data: one table, no branches. */
export const WRITABLE_SPEC_VERSIONS = ['1.6', '1.7'] as const;
export type WritableSpecVersion = (typeof WRITABLE_SPEC_VERSIONS)[number];
export const DEFAULT_SPEC_VERSION: WritableSpecVersion = '1.6';

/** The spec versions `aibom validate` reads. */
export const VALIDATABLE_SPEC_VERSIONS = ['1.4', '1.5', '1.6', '1.7'] as const;
export type ValidatableSpecVersion = (typeof VALIDATABLE_SPEC_VERSIONS)[number];

const SPECS: Record<WritableSpecVersion, SpecProtocol> = {
  '1.6': cdx.Spec.Spec1dot6,
  '1.7': cdx.Spec.Spec1dot7,
};

export function specFor(version: string): SpecProtocol {
  const s = SPECS[version as WritableSpecVersion];
  if (!s) {
    throw new AibomError(
      'USAGE',
      `unsupported --spec-version "${version}"; choose one of ${WRITABLE_SPEC_VERSIONS.join(', ')}`,
    );
  }
  return s;
}

export function isWritableSpecVersion(v: string): v is WritableSpecVersion {
  return (WRITABLE_SPEC_VERSIONS as readonly string[]).includes(v);
}
