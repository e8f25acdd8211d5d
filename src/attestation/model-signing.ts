/**
 * The OpenSSF model signing (model_signing) v1.0 signature format: an in-toto Statement v1
 * with predicateType `https://model_signing/signature/v1.0`, one subject (the model's name and
 * a SHA-256 over the resource digests) and a predicate holding how the model was serialized
 * and one resource per file. Types, building a statement from a folder manifest
 * (src/digest/digest.ts computes it), parsing one from a signature, and comparing a
 * signed manifest with a freshly computed one. Pure: no I/O.
 */
import { createHash } from 'node:crypto';
import { basename, dirname } from 'node:path';
import { AibomError } from '../errors.js';
import { compareCodePoints, type FolderManifest, manifestDigest } from '../digest/digest.js';
import { isObject } from '../util/json.js';
import { makeStatement, type Statement } from './statement.js';

export const MODEL_SIGNING_PREDICATE_TYPE = 'https://model_signing/signature/v1.0';
/** The pre-1.0 (v0.2) predicate model_signing still verifies; aibom reports it as unsupported. */
export const MODEL_SIGNING_PREDICATE_TYPE_V0_2 = 'https://model_signing/Digests/v0.1';
/** Default name of the signature file in a model folder; it is never hashed. */
export const MODEL_SIGNATURE_FILE = 'model.sig';

export interface ModelSigningSerialization {
  /** 'files': one digest per file. ('shards' exists in model_signing but aibom does not produce or verify it.) */
  method: 'files';
  hash_type: 'sha256';
  allow_symlinks: boolean;
  /** Paths (relative to the model folder, POSIX) that were left out when signing. */
  ignore_paths?: string[];
}

export interface ModelSigningResource {
  /** POSIX path relative to the model folder; '.' when the model is a single file. */
  name: string;
  algorithm: 'sha256';
  /** Lowercase hex SHA-256 of the file. */
  digest: string;
}

export interface ModelSigningPredicate extends Record<string, unknown> {
  serialization: ModelSigningSerialization;
  resources: ModelSigningResource[];
}

export type ModelSigningStatement = Statement<ModelSigningPredicate>;

export interface ModelSigningStatementOptions {
  allowSymlinks?: boolean;
  /** Recorded in serialization.ignore_paths when given (model_signing ≥ 1.1 records them). */
  ignorePaths?: string[];
}

/** Bound on resources read from a signature (one per file of the model). */
export const MAX_MODEL_RESOURCES = 1_000_000;

/**
 * The model_signing v1.0 statement of a folder (or single-file) manifest: subject = manifest
 * name + digest over the sorted resources; resources sorted by name.
 */
export function modelSigningStatement(manifest: FolderManifest, options: ModelSigningStatementOptions = {}): ModelSigningStatement {
  const resources: ModelSigningResource[] = [...manifest.resources]
    .sort((a, b) => compareCodePoints(a.name, b.name))
    .map((r) => ({ name: r.name, algorithm: 'sha256', digest: r.digest }));
  const serialization: ModelSigningSerialization = {
    method: 'files',
    hash_type: 'sha256',
    allow_symlinks: options.allowSymlinks ?? false,
  };
  if (options.ignorePaths?.length) serialization.ignore_paths = [...options.ignorePaths].sort(compareCodePoints);
  return makeStatement([{ name: manifest.name, digest: { sha256: manifestDigest(resources) } }], MODEL_SIGNING_PREDICATE_TYPE, {
    serialization,
    resources,
  });
}

export function isModelSigningStatement(statement: Statement): boolean {
  return statement.predicateType === MODEL_SIGNING_PREDICATE_TYPE || statement.predicateType === MODEL_SIGNING_PREDICATE_TYPE_V0_2;
}

const HEX64 = /^[0-9a-f]{64}$/;

/**
 * Read and check the model_signing predicate of a (schema-valid) statement, as model_signing's
 * verifier does: exactly one subject with a sha256 digest, serialization method 'files' with
 * sha256, well-formed resources with unique names, and a subject digest that equals the
 * digest over the resources (a statement whose parts disagree is refused before any file
 * is hashed). Extra predicate fields are ignored, as the v1.0 format asks.
 */
export function parseModelSigningPredicate(statement: Statement, file?: string): { name: string; digest: string; predicate: ModelSigningPredicate } {
  const fo = file === undefined ? {} : { file };
  if (statement.predicateType === MODEL_SIGNING_PREDICATE_TYPE_V0_2) {
    const dir = file !== undefined && basename(file) === 'model.sig' ? dirname(file) : 'MODEL_DIR';
    throw new AibomError(
      'UNSUPPORTED',
      `model signature is in model_signing's pre-1.0 (v0.2) format (predicateType ${MODEL_SIGNING_PREDICATE_TYPE_V0_2}): ` +
        'it names each file as a statement subject and records no serialization (hash type, ignored paths, symbolic links), ' +
        'so what was hashed cannot be reproduced as model_signing 1.x defines it (model_signing verifies it only through a ' +
        'compatibility path that copies v0.2 bug for bug); aibom verifies the v1.0 format. ' +
        `Re-sign the model: \`aibom sign ${dir}\` (keyless; or --key KEY.pem), or \`model_signing sign sigstore ${dir}\``,
      fo,
    );
  }
  if (statement.predicateType !== MODEL_SIGNING_PREDICATE_TYPE) {
    throw new AibomError('INPUT', `not a model signature: predicateType is ${statement.predicateType}`, fo);
  }
  if (statement.subject.length !== 1) {
    throw new AibomError('INPUT', `model signature must have exactly one subject, has ${statement.subject.length}`, fo);
  }
  const subject = statement.subject[0]!;
  const subjectDigest = subject.digest.sha256;
  if (subjectDigest === undefined || !HEX64.test(subjectDigest)) {
    throw new AibomError('INPUT', 'model signature subject has no sha256 digest', fo);
  }
  const p = statement.predicate;
  if (!isObject(p)) throw new AibomError('INPUT', 'model signature has no predicate', fo);
  const ser = p.serialization;
  if (!isObject(ser)) throw new AibomError('INPUT', 'model signature predicate has no serialization', fo);
  if (ser.method !== 'files') {
    throw new AibomError(
      'UNSUPPORTED',
      `model signature uses serialization method ${JSON.stringify(ser.method)}; aibom verifies "files"`,
      fo,
    );
  }
  if (ser.hash_type !== 'sha256') {
    throw new AibomError('UNSUPPORTED', `model signature uses hash_type ${JSON.stringify(ser.hash_type)}; aibom verifies sha256`, fo);
  }
  // model_signing has written allow_symlinks as a bool and (in its compat path) as a string.
  const allowSymlinks = ser.allow_symlinks === true || ser.allow_symlinks === 'true' || ser.allow_symlinks === 'True';
  let ignorePaths: string[] | undefined;
  if (ser.ignore_paths !== undefined) {
    if (!Array.isArray(ser.ignore_paths) || !ser.ignore_paths.every((x) => typeof x === 'string')) {
      throw new AibomError('INPUT', 'model signature serialization.ignore_paths is not a list of paths', fo);
    }
    ignorePaths = ser.ignore_paths as string[];
  }
  const res = p.resources;
  if (!Array.isArray(res) || res.length === 0) throw new AibomError('INPUT', 'model signature lists no resources', fo);
  if (res.length > MAX_MODEL_RESOURCES) {
    throw new AibomError('TOO_LARGE', `model signature lists ${res.length} resources (limit ${MAX_MODEL_RESOURCES})`, fo);
  }
  const names = new Set<string>();
  const resources: ModelSigningResource[] = res.map((r, i) => {
    if (!isObject(r) || typeof r.name !== 'string' || r.name === '') {
      throw new AibomError('INPUT', `model signature resource ${i + 1} has no name`, fo);
    }
    if (r.algorithm !== 'sha256') {
      throw new AibomError('UNSUPPORTED', `model signature resource ${r.name} uses algorithm ${JSON.stringify(r.algorithm)}`, fo);
    }
    if (typeof r.digest !== 'string' || !HEX64.test(r.digest)) {
      throw new AibomError('INPUT', `model signature resource ${r.name} has no valid sha256 digest`, fo);
    }
    if (!isSafeResourceName(r.name)) {
      throw new AibomError('INPUT', `model signature resource name ${JSON.stringify(r.name).slice(0, 200)} is not a relative path inside the model`, fo);
    }
    if (names.has(r.name)) throw new AibomError('INPUT', `model signature lists resource ${r.name} twice`, fo);
    names.add(r.name);
    return { name: r.name, algorithm: 'sha256', digest: r.digest };
  });
  // model_signing hashes the digests in the order listed (it writes them sorted); so do we.
  const h = manifestDigestInOrder(resources);
  if (h !== subjectDigest) {
    throw new AibomError(
      'VERIFY_FAILED',
      `model signature is inconsistent: subject digest ${subjectDigest} but its resources hash to ${h}`,
      fo,
    );
  }
  const serialization: ModelSigningSerialization = { method: 'files', hash_type: 'sha256', allow_symlinks: allowSymlinks };
  if (ignorePaths) serialization.ignore_paths = ignorePaths;
  return { name: subject.name ?? '', digest: subjectDigest, predicate: { serialization, resources } };
}

/** SHA-256 over the raw resource digests in the order listed, as model_signing's verifier computes it. */
function manifestDigestInOrder(resources: ModelSigningResource[]): string {
  const h = createHash('sha256');
  for (const r of resources) h.update(Buffer.from(r.digest, 'hex'));
  return h.digest('hex');
}

/** '.' or a normalized relative POSIX path: no '..', no leading '/', no empty or '.' segments, no backslashes, no NUL. */
export function isSafeResourceName(name: string): boolean {
  if (name === '.') return true;
  if (name.startsWith('/') || name.includes('\\') || name.includes('\0')) return false;
  return name.split('/').every((seg) => seg !== '' && seg !== '.' && seg !== '..');
}

export interface ManifestDifference {
  /** Files whose digest differs. */
  changed: string[];
  /** Files present now but not in the signature. */
  added: string[];
  /** Files in the signature but not present now. */
  missing: string[];
}

/** Compare the signed resources with the freshly computed ones. */
export function compareManifests(
  signed: ReadonlyArray<{ name: string; digest: string }>,
  actual: ReadonlyArray<{ name: string; digest: string }>,
): ManifestDifference {
  const want = new Map(signed.map((r) => [r.name, r.digest.toLowerCase()]));
  const have = new Map(actual.map((r) => [r.name, r.digest.toLowerCase()]));
  const changed: string[] = [];
  const added: string[] = [];
  const missing: string[] = [];
  for (const [name, digest] of have) {
    const w = want.get(name);
    if (w === undefined) added.push(name);
    else if (w !== digest) changed.push(name);
  }
  for (const name of want.keys()) if (!have.has(name)) missing.push(name);
  const sort = (xs: string[]) => xs.sort(compareCodePoints);
  return { changed: sort(changed), added: sort(added), missing: sort(missing) };
}

export function manifestsEqual(d: ManifestDifference): boolean {
  return d.changed.length === 0 && d.added.length === 0 && d.missing.length === 0;
}
