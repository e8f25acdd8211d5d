/**
 * A BOM can be signed two ways: a signature over the BOM file itself, or an in-toto
 * attestation (aibom attest, the GitHub Action) whose predicate IS the BOM and whose subjects
 * are the release artifacts. The second verifies when the bundle's signature is good over one
 * of its subjects and its predicate equals the BOM, compared as canonical JSON (sorted keys),
 * so a re-serialized but identical BOM still matches and any edited field does not.
 */
import { IN_TOTO_DIGESTS, subjectAlgorithms } from '../attestation/digests.js';
import { CYCLONEDX_PREDICATE_TYPE, SLSA_PROVENANCE_TYPES } from '../attestation/statement.js';
import { VSA_PREDICATE_TYPE } from '../attestation/vsa.js';
import { isObject } from '../util/json.js';
import type { LoadedBundle } from './bundle.js';
import type { IdentityPolicy } from './identity-policy.js';
import type { VerificationResult } from './result.js';
import { type TrustContext, verifyPrepared } from './verify.js';

/** Canonical JSON (sorted keys). Recursion is bounded by the depth limit both documents were parsed with. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (isObject(v)) {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(v[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

/**
 * Verify `loaded` as an attestation whose predicate is `bom`. Undefined when the bundle is not
 * such an attestation (or its predicate is another BOM): the caller keeps its own verdict.
 */
export function verifyBomPredicate(
  ctx: TrustContext,
  loaded: LoadedBundle,
  bom: unknown,
  name: string,
  policy: IdentityPolicy,
): VerificationResult | undefined {
  const st = loaded.statement;
  if (!st || st.predicateType !== CYCLONEDX_PREDICATE_TYPE || !isObject(st.predicate)) return undefined;
  if (canonicalJson(st.predicate) !== canonicalJson(bom)) return undefined;
  // The subject by its strongest digest aibom computes (sha512 for npm provenance, sha256 for aibom's own).
  for (const subject of st.subject.slice(0, 1000)) {
    const [algorithm] = subjectAlgorithms([subject]).sort((a, b) => IN_TOTO_DIGESTS[b]!.strength - IN_TOTO_DIGESTS[a]!.strength);
    const hex = algorithm === undefined ? undefined : subject.digest[algorithm];
    if (!algorithm || !hex || hex.length !== IN_TOTO_DIGESTS[algorithm]!.hexLength || !/^[0-9a-fA-F]+$/.test(hex)) continue;
    return verifyPrepared(ctx, loaded, { kind: 'digest', name, algorithm, digest: Buffer.from(hex, 'hex') }, policy);
  }
  return undefined;
}

/**
 * What may stand as the BOM's signature: a signature over the BOM itself, or a statement whose
 * type vouches for it (the BOM as predicate, SLSA provenance of it, a PASSED SLSA VSA v1). Any
 * other signed statement about the BOM (a VSA of another version, a VEX saying "affected", a
 * type nobody here knows) says something else about it, not "this is our release": refused,
 * naming the type. Undefined when `statementType` (the verified bundle's) is acceptable.
 */
export const BOM_SIGNATURE_TYPES: readonly string[] = [CYCLONEDX_PREDICATE_TYPE, ...SLSA_PROVENANCE_TYPES, VSA_PREDICATE_TYPE];

export function bomSignatureRefusal(statementType: string | undefined): string | undefined {
  if (statementType === undefined || BOM_SIGNATURE_TYPES.includes(statementType)) return undefined;
  return `the bundle signs a statement of type ${JSON.stringify(statementType.slice(0, 200))} about the BOM, which does not vouch for it as the release's BOM (accepted: a signature over the BOM, or ${BOM_SIGNATURE_TYPES.join(', ')})`;
}
