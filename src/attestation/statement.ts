/**
 * in-toto attestation Statement v1 (https://github.com/in-toto/attestation, spec/v1):
 * types for the Statement, ResourceDescriptor and DigestSet, building statements, and
 * parsing statements that came from outside. Every statement aibom signs or verifies is
 * validated against schemas/in-toto-statement-v1.schema.json (the schema ships with the
 * package); the TypeScript checks below only narrow types after that.
 *
 * Pure apart from reading the schema file once per process.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AibomError } from '../errors.js';
import { isObject, parseJsonText } from '../util/json.js';
import { schemaValidator } from '../util/precompiled.js';

export const STATEMENT_TYPE_V1 = 'https://in-toto.io/Statement/v1';
/**
 * in-toto Statement v0.1: what cosign, npm publish attestations and SLSA v0.2 provenance
 * write. Its layer is v1's (subject name + DigestSet, predicateType, predicate); read both,
 * write v1.
 */
export const STATEMENT_TYPE_V01 = 'https://in-toto.io/Statement/v0.1';
export const STATEMENT_TYPES: readonly string[] = [STATEMENT_TYPE_V1, STATEMENT_TYPE_V01];
/** Predicate type of a CycloneDX BOM as an attestation predicate. */
export const CYCLONEDX_PREDICATE_TYPE = 'https://cyclonedx.org/bom';
/** SLSA build provenance, v1 and v0.2. */
export const SLSA_PROVENANCE_TYPES: readonly string[] = ['https://slsa.dev/provenance/v1', 'https://slsa.dev/provenance/v0.2'];

/** Map from algorithm name (sha256, sha512, gitCommit, ...) to the digest, lowercase hex for hex digests. */
export type DigestSet = Record<string, string>;

/** A description of a software artifact or resource; at least one of uri, digest, content is set. */
export interface ResourceDescriptor {
  name?: string;
  uri?: string;
  digest?: DigestSet;
  /** The resource's bytes, base64. */
  content?: string;
  downloadLocation?: string;
  mediaType?: string;
  annotations?: Record<string, unknown>;
}

/** A statement subject: a ResourceDescriptor that has a digest. */
export interface Subject extends ResourceDescriptor {
  digest: DigestSet;
}

export interface Statement<P extends Record<string, unknown> = Record<string, unknown>> {
  _type: typeof STATEMENT_TYPE_V1 | typeof STATEMENT_TYPE_V01;
  subject: Subject[];
  predicateType: string;
  predicate?: P;
}

/** Bounds for statements read from outside. A release may have dozens of subjects; a model folder has one. */
export const MAX_STATEMENT_SUBJECTS = 100_000;

export interface StatementIssue {
  /** JSON pointer of the offending value, e.g. `/subject/0/digest/sha256`. */
  path: string;
  message: string;
}

type CompiledValidator = ((data: unknown) => boolean) & {
  errors?: Array<{ instancePath: string; message?: string; keyword: string; params: Record<string, unknown> }> | null;
};

let validator: CompiledValidator | undefined;

/** Where the shipped schema is: `schemas/` at the package root (from src/ or dist/src/). */
export function statementSchemaPath(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'schemas', 'in-toto-statement-v1.schema.json');
    try {
      readFileSync(join(dir, 'package.json'));
      return candidate;
    } catch {
      dir = dirname(dir);
    }
  }
  throw new AibomError('INTERNAL', 'cannot find schemas/in-toto-statement-v1.schema.json in the aibom package');
}

function getValidator(): CompiledValidator {
  if (validator) return validator;
  // Precompiled by scripts/gen-schema-validators.mjs while current, else compiled with ajv
  // (strict:false: the schema uses `required` inside anyOf branches, which strict mode flags).
  validator = schemaValidator('in-toto-statement', 'in-toto-statement-v1.schema.json');
  return validator;
}

/** Schema issues of a candidate statement (empty when valid); a v0.1 statement is checked as the v1 layer it shares. */
export function statementIssues(data: unknown): StatementIssue[] {
  const validate = getValidator();
  const candidate = isObject(data) && data._type === STATEMENT_TYPE_V01 ? { ...data, _type: STATEMENT_TYPE_V1 } : data;
  if (validate(candidate)) return [];
  return (validate.errors ?? [])
    .filter((e) => e.keyword !== 'anyOf' && e.keyword !== 'allOf')
    .map((e) => ({ path: e.instancePath || '/', message: e.message ?? e.keyword }));
}

/**
 * Check that a value is an in-toto Statement v1 and return it typed; throws an INPUT
 * AibomError naming the first few problems. `what` names the statement in messages.
 */
export function parseStatement(data: unknown, file?: string, what = 'in-toto statement'): Statement {
  if (isObject(data) && typeof data._type === 'string' && !STATEMENT_TYPES.includes(data._type)) {
    throw new AibomError(
      'UNSUPPORTED',
      `${what} has _type ${JSON.stringify(data._type).slice(0, 120)}; aibom reads ${STATEMENT_TYPES.join(' and ')}`,
      file === undefined ? {} : { file },
    );
  }
  if (isObject(data) && Array.isArray(data.subject) && data.subject.length > MAX_STATEMENT_SUBJECTS) {
    throw new AibomError('TOO_LARGE', `${what} has ${data.subject.length} subjects (limit ${MAX_STATEMENT_SUBJECTS})`, file === undefined ? {} : { file });
  }
  const issues = statementIssues(data);
  if (issues.length) {
    const shown = issues.slice(0, 3).map((i) => `${i.path}: ${i.message}`);
    const more = issues.length > 3 ? ` (and ${issues.length - 3} more)` : '';
    throw new AibomError('INPUT', `not a valid ${what}: ${shown.join('; ')}${more}`, file === undefined ? {} : { file });
  }
  return data as Statement;
}

/** Parse statement bytes (e.g. a DSSE payload): UTF-8 JSON, depth-checked, then validated. */
export function parseStatementBytes(bytes: Uint8Array, file?: string, what = 'in-toto statement'): Statement {
  const text = Buffer.from(bytes).toString('utf8');
  return parseStatement(parseJsonText(text, file ?? what), file, what);
}

/** Build a statement and validate it (a statement aibom writes must pass its own schema). */
export function makeStatement<P extends Record<string, unknown>>(subject: Subject[], predicateType: string, predicate?: P): Statement<P> {
  const statement: Statement<P> = { _type: STATEMENT_TYPE_V1, subject, predicateType };
  if (predicate !== undefined) statement.predicate = predicate;
  const issues = statementIssues(statement);
  if (issues.length) {
    throw new AibomError('INPUT', `cannot build an in-toto statement: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`);
  }
  return statement;
}

/** Serialize a statement as DSSE payload bytes (compact JSON, UTF-8). */
export function statementBytes(statement: Statement<Record<string, unknown>>): Buffer {
  return Buffer.from(JSON.stringify(statement), 'utf8');
}

/**
 * Subjects whose digest set has `algorithm` equal to `hex` (compared lowercase). In-toto
 * matches subjects purely by digest; the name is informational. To match an artifact by every
 * digest it has, use matchingSubjects (digests.ts).
 */
export function subjectsWithDigest(statement: Statement<Record<string, unknown>>, algorithm: string, hex: string): Subject[] {
  const want = hex.toLowerCase();
  return statement.subject.filter((s) => s.digest[algorithm]?.toLowerCase() === want);
}
