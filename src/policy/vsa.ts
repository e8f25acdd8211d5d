/**
 * `aibom gate --vsa FILE`: the gate's verdict as a signed SLSA Verification Summary
 * Attestation v1, in a Sigstore bundle (DSSE, in-toto Statement v1). Subjects: the release
 * artifacts the gate checked and the BOM; `policy`: the policy file's path (or
 * --vsa-policy-uri) and sha256; `inputAttestations`: the bundles the gate verified (the BOM's
 * --bundle files and the --attestations files); `verificationResult` PASSED or FAILED;
 * `verifiedLevels`: FAILED, or SLSA_BUILD_LEVEL_1 when every release artifact had verified
 * provenance, else SLSA_BUILD_LEVEL_0 (the gate does not claim more than it checked).
 *
 * A FAILED verdict is signed and written too: it is the record that the release was refused.
 */
import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { IN_TOTO_PAYLOAD_TYPE } from '../attestation/dsse.js';
import { makeStatement, statementBytes, type Subject } from '../attestation/statement.js';
import { DEFAULT_VERIFIER_ID, VSA_PREDICATE_TYPE, type VsaPredicate, type VsaResourceDescriptor } from '../attestation/vsa.js';
import { AibomError } from '../errors.js';
import { sha256File } from '../digest/digest.js';
import type { SigningIdentity } from '../signature/bundle-builder.js';
import { pathKind, writeFileAtomic } from '../util/fs.js';
import { TOOL_VERSION } from '../version.js';
import type { ArtifactCheck, GateResult } from './evaluate.js';
import type { Policy } from './types.js';

export interface VsaOptions {
  /** Where to write the bundle. */
  file: string;
  identity: SigningIdentity;
  verifierId?: string;
  policyUri?: string;
  resourceUri?: string;
  /** Checked against what the services returned (keyless) before writing. */
  check?: (bundle: unknown) => void;
}

export interface VsaInputs {
  result: GateResult;
  bomFile: string;
  bomJson: Record<string, unknown>;
  policy: Policy;
  policyFile?: string;
  bundles: string[];
  attestations?: string;
  artifacts?: ArtifactCheck[];
  now: Date;
}

const MAX_INPUT_ATTESTATIONS = 10_000;

async function describeFile(uri: string, file: string): Promise<VsaResourceDescriptor> {
  return { uri, digest: { sha256: await sha256File(file) } };
}

async function attestationFiles(path: string): Promise<string[]> {
  if ((await pathKind(path)) !== 'dir') return [path];
  const names = (await readdir(path)).filter((n) => /\.jsonl?$/.test(n)).sort();
  if (names.length > MAX_INPUT_ATTESTATIONS) throw new AibomError('TOO_LARGE', `over ${MAX_INPUT_ATTESTATIONS} attestation files`, { file: path });
  return names.map((n) => join(path, n));
}

/** The VSA statement for a gate run (no signing). */
export async function vsaStatement(inputs: VsaInputs, o: Omit<VsaOptions, 'file' | 'identity'>) {
  const subjects: Subject[] = [];
  for (const a of inputs.artifacts ?? []) subjects.push({ name: a.artifact, digest: { sha256: a.digest } });
  subjects.push({ name: basename(inputs.bomFile), digest: { sha256: await sha256File(inputs.bomFile) } });
  const policy: VsaResourceDescriptor = inputs.policyFile
    ? await describeFile(o.policyUri ?? inputs.policyFile, inputs.policyFile)
    : {
        uri: o.policyUri ?? `${DEFAULT_VERIFIER_ID}@${TOOL_VERSION}#default-policy`,
        digest: { sha256: createHash('sha256').update(JSON.stringify(inputs.policy)).digest('hex') },
      };
  const inputAttestations: VsaResourceDescriptor[] = [];
  for (const b of inputs.bundles) inputAttestations.push(await describeFile(b, b));
  if (inputs.attestations) for (const f of await attestationFiles(inputs.attestations)) inputAttestations.push(await describeFile(f, f));
  const serial = typeof inputs.bomJson.serialNumber === 'string' ? inputs.bomJson.serialNumber : undefined;
  const passed = inputs.result.passed;
  const provenance = (inputs.artifacts?.length ?? 0) > 0 && inputs.artifacts!.every((a) => a.attestations.length > 0);
  const predicate: VsaPredicate = {
    verifier: { id: o.verifierId ?? DEFAULT_VERIFIER_ID, version: { aibom: TOOL_VERSION } },
    timeVerified: inputs.now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    resourceUri: o.resourceUri ?? serial ?? basename(inputs.bomFile),
    policy,
    inputAttestations,
    verificationResult: passed ? 'PASSED' : 'FAILED',
    verifiedLevels: passed ? [provenance ? 'SLSA_BUILD_LEVEL_1' : 'SLSA_BUILD_LEVEL_0'] : ['FAILED'],
    slsaVersion: '1.0',
  };
  return makeStatement(subjects, VSA_PREDICATE_TYPE, predicate as unknown as Record<string, unknown>);
}

/** Sign the VSA and write it atomically; returns what was written. */
export async function writeVsa(inputs: VsaInputs, o: VsaOptions): Promise<{ file: string; verificationResult: string; subjects: number }> {
  const statement = await vsaStatement(inputs, o);
  // Loaded only to sign: a gate that writes no VSA never loads the signing client.
  const { createBundle } = await import('../signature/bundle-builder.js');
  const bundle = await createBundle({ kind: 'dsse', payload: statementBytes(statement), payloadType: IN_TOTO_PAYLOAD_TYPE }, o.identity);
  o.check?.(bundle);
  await writeFileAtomic(o.file, `${JSON.stringify(bundle)}\n`);
  return { file: o.file, verificationResult: (statement.predicate as unknown as VsaPredicate).verificationResult, subjects: statement.subject.length };
}
