/**
 * `aibom attest --predicate BOM --bundle OUT SUBJECT...`: an in-toto Statement v1 about a
 * release — one subject per artifact (its name and sha256), the BOM as the predicate
 * (predicateType https://cyclonedx.org/bom, or another type by name or URI) — signed in a DSSE
 * envelope. A CycloneDX predicate is schema-validated first: an attestation over an invalid
 * BOM is refused, not signed.
 */
import { createHash } from 'node:crypto';
import { basename, isAbsolute, relative, resolve } from 'node:path';
import { IN_TOTO_PAYLOAD_TYPE } from '../attestation/dsse.js';
import { CYCLONEDX_PREDICATE_TYPE, makeStatement, statementBytes, type Subject } from '../attestation/statement.js';
import { specVersionOf, validateBomJson } from '../bom/validate.js';
import { AibomError } from '../errors.js';
import { pathKind, readTextBounded, toPosix } from '../util/fs.js';
import { isObject, parseJsonText } from '../util/json.js';
import { sha256File } from '../digest/digest.js';
import { createBundle, type SigningIdentity } from './bundle-builder.js';
import { keyOf } from './sign-file.js';
import { type SignOutcome, summarizeBundle } from './summary.js';

/** Predicate types by the short names cosign uses for them. */
export const PREDICATE_TYPES: Record<string, string> = {
  cyclonedx: CYCLONEDX_PREDICATE_TYPE,
  spdx: 'https://spdx.dev/Document',
  spdxjson: 'https://spdx.dev/Document',
  slsaprovenance: 'https://slsa.dev/provenance/v1',
  slsaprovenance1: 'https://slsa.dev/provenance/v1',
  slsaprovenance02: 'https://slsa.dev/provenance/v0.2',
  openvex: 'https://openvex.dev/ns',
  link: 'https://in-toto.io/Link/v1',
};

/** A BOM for a big monorepo is tens of MiB; the predicate is read whole. */
export const MAX_PREDICATE_BYTES = 256 * 1024 * 1024;
/** A release has dozens of files; thousands is plausible; more is a mistake. */
export const MAX_SUBJECTS = 10_000;

export function predicateTypeFor(type: string | undefined): string {
  const t = (type ?? 'cyclonedx').trim();
  const known = PREDICATE_TYPES[t.toLowerCase()];
  if (known) return known;
  if (/^[a-z][a-z0-9+.-]*:\S+$/i.test(t)) return t;
  throw new AibomError(
    'USAGE',
    `--type ${JSON.stringify(t)} is neither a known predicate type (${Object.keys(PREDICATE_TYPES).join(', ')}) nor a URI`,
  );
}

export interface AttestOptions {
  predicate: string;
  type?: string;
}

export async function attest(subjectPaths: string[], identity: SigningIdentity, options: AttestOptions): Promise<SignOutcome> {
  if (subjectPaths.length === 0) throw new AibomError('USAGE', 'name at least one SUBJECT file (the release artifacts the BOM describes)');
  if (subjectPaths.length > MAX_SUBJECTS) throw new AibomError('TOO_LARGE', `${subjectPaths.length} subjects (limit ${MAX_SUBJECTS})`);
  const predicateType = predicateTypeFor(options.type);
  const predicate = await readPredicate(options.predicate, predicateType);
  const subjects = await hashSubjects(subjectPaths);
  const statement = makeStatement(subjects, predicateType, predicate);
  const payload = statementBytes(statement);
  const bundle = await createBundle({ kind: 'dsse', payload, payloadType: IN_TOTO_PAYLOAD_TYPE }, identity);
  return {
    kind: 'attestation',
    target: options.predicate,
    sha256: createHash('sha256').update(payload).digest('hex'),
    subjects: subjects.map((s) => ({ ...(s.name === undefined ? {} : { name: s.name }), digest: s.digest })),
    predicateType,
    bundle,
    summary: summarizeBundle(bundle, keyOf(identity)),
  };
}

async function readPredicate(file: string, predicateType: string): Promise<Record<string, unknown>> {
  const data = parseJsonText(await readTextBounded(file, MAX_PREDICATE_BYTES, file), file);
  if (!isObject(data)) throw new AibomError('INPUT', 'the predicate must be a JSON object', { file });
  if (predicateType === CYCLONEDX_PREDICATE_TYPE) {
    let version: string;
    try {
      version = specVersionOf(data);
    } catch (err) {
      if (err instanceof AibomError) throw new AibomError(err.code, err.message, { file });
      throw err;
    }
    const errors = await validateBomJson(data, version).catch((err: unknown) => {
      if (err instanceof AibomError) throw new AibomError(err.code, err.message, { file });
      throw err;
    });
    if (errors.length) {
      const first = errors.slice(0, 3).map((e) => `${e.path}: ${e.message}`);
      throw new AibomError(
        'INVALID_BOM',
        `not a valid CycloneDX ${version} BOM (${errors.length} schema error${errors.length > 1 ? 's' : ''}: ${first.join('; ')}); nothing signed`,
        { file },
      );
    }
  }
  return data;
}

/**
 * A subject's name: its path relative to the working directory (POSIX), as release tooling
 * names artifacts (`dist/app.tgz`); a file outside the working directory is named by its base
 * name, so no machine path ends up in a published attestation. Verifiers match subjects by
 * digest; the name is for people.
 */
export function subjectName(path: string, cwd: string = process.cwd()): string {
  const rel = relative(cwd, resolve(cwd, path));
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) return basename(path);
  return toPosix(rel);
}

/**
 * One subject per file: its name (see subjectName) and sha256. The same file twice is one
 * subject; two different files under one name are refused.
 */
async function hashSubjects(paths: string[]): Promise<Subject[]> {
  const byName = new Map<string, Subject>();
  for (const p of paths) {
    const kind = await pathKind(p);
    if (kind === 'missing') throw new AibomError('INPUT', 'no such file', { file: p });
    if (kind === 'dir') throw new AibomError('USAGE', 'is a folder; subjects are files (sign a folder with `aibom sign DIR`)', { file: p });
    if (kind !== 'file') throw new AibomError('INPUT', 'not a regular file', { file: p });
    const name = subjectName(p);
    let digest: string;
    try {
      digest = await sha256File(p);
    } catch (err) {
      throw new AibomError('INPUT', `cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { file: p });
    }
    const prev = byName.get(name);
    if (prev && prev.digest.sha256 !== digest) throw new AibomError('USAGE', 'named twice with different contents', { file: p });
    byName.set(name, { name, digest: { sha256: digest } });
  }
  return [...byName.values()];
}
