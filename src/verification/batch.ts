/**
 * Batch verification: a JSON Lines file, one verification per line, all in one process with
 * the trust material (trusted root, keys, CA certificates) loaded once.
 *
 * Each line is an object: the target as `artifact` (a file), `dir` (a folder) or `digest`
 * (`sha256:<hex>`); `bundle`; and the signer, as on the command line:
 * `certificateIdentity` / `certificateIdentityRegexp` (or `identity` / `identityRegexp`),
 * `certificateOidcIssuer` / `certificateOidcIssuerRegexp` (or `issuer` / `issuerRegexp`),
 * `key`, `certificateChain`; optionally `trustedRoot`, `ignorePaths`, `ignoreGitPaths`,
 * `allowSymlinks`; certificate claim constraints as on the command line (`sourceRepository`,
 * `sourceRepositoryRegexp`, `sourceRef`, `sourceRefRegexp`, `sourceDigest`, `signerWorkflow`,
 * `signerWorkflowRegexp`, `runnerEnvironment`, and lists `denyTrigger`, `allowTrigger`).
 * Relative paths are relative to the batch file's folder. Flags given on
 * the command line are defaults for every line; a line that names its own signer replaces the
 * command line's signer, but claim constraints add up (the command line's hold for every line;
 * a line that contradicts one is an error). Blank lines and lines starting with `#` are
 * skipped.
 */
import { suggestion } from '../util/did-you-mean.js';
import { dirname, isAbsolute, resolve } from 'node:path';
import { AibomError } from '../errors.js';
import { readTextBounded } from '../util/fs.js';
import { isObject, parseJsonText } from '../util/json.js';
import { CLAIM_LIST_OPTIONS, CLAIM_OPTION_KEYS, CLAIM_STRING_OPTIONS, copyClaimOptions, layerClaims } from './claim-policy.js';
import { SIGNER_IDENTITY_KEYS } from './identity-policy.js';
import type { VerificationResult } from './result.js';
import type { VerifyRequest, VerifySession } from './run.js';

export const MAX_BATCH_BYTES = 64 * 1024 * 1024;
export const MAX_BATCH_ENTRIES = 100_000;
const MAX_LINE_BYTES = 1024 * 1024;

export interface BatchEntry {
  line: number;
  request?: VerifyRequest;
  /** A line that cannot be used, with why. */
  error?: string;
}

const STRING_FIELDS: Record<string, keyof VerifyRequest> = {
  bundle: 'bundle',
  certificateIdentity: 'certificateIdentity',
  identity: 'certificateIdentity',
  certificateIdentityRegexp: 'certificateIdentityRegexp',
  identityRegexp: 'certificateIdentityRegexp',
  certificateOidcIssuer: 'certificateOidcIssuer',
  issuer: 'certificateOidcIssuer',
  certificateOidcIssuerRegexp: 'certificateOidcIssuerRegexp',
  issuerRegexp: 'certificateOidcIssuerRegexp',
  key: 'key',
  certificateChain: 'certificateChain',
  trustedRoot: 'trustedRoot',
  ...Object.fromEntries(CLAIM_STRING_OPTIONS.map((k) => [k, k])),
};
const PATH_FIELDS = new Set<keyof VerifyRequest>(['bundle', 'key', 'certificateChain', 'trustedRoot']);
const TARGET_FIELDS = ['artifact', 'dir', 'digest'] as const;

/** Parse a batch file into requests; `defaults` are the command-line flags. */
export async function readBatch(file: string, defaults: Partial<VerifyRequest>): Promise<BatchEntry[]> {
  const text = await readTextBounded(file, MAX_BATCH_BYTES, file);
  const base = dirname(resolve(file));
  const rel = (p: string) => (isAbsolute(p) ? p : resolve(base, p));
  const out: BatchEntry[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.trim();
    if (!raw || raw.startsWith('#')) continue;
    if (out.length >= MAX_BATCH_ENTRIES) throw new AibomError('TOO_LARGE', `more than ${MAX_BATCH_ENTRIES} entries`, { file });
    const line = i + 1;
    if (raw.length > MAX_LINE_BYTES) {
      out.push({ line, error: 'line is over 1 MiB' });
      continue;
    }
    let obj: unknown;
    try {
      obj = parseJsonText(raw, `${file}:${line}`, 16);
    } catch (err) {
      out.push({ line, error: err instanceof AibomError ? err.message : String(err) });
      continue;
    }
    if (!isObject(obj)) {
      out.push({ line, error: 'not a JSON object' });
      continue;
    }
    const targets = TARGET_FIELDS.filter((k) => obj[k] !== undefined);
    if (targets.length !== 1 || typeof obj[targets[0]!] !== 'string' || obj[targets[0]!] === '') {
      out.push({ line, error: 'give exactly one of "artifact", "dir" or "digest" (a string)' });
      continue;
    }
    const t = targets[0]!;
    const value = obj[t] as string;
    const req: VerifyRequest = { ...defaults, target: t === 'digest' ? value : rel(value) };
    let bad: string | undefined;
    const keysGiven = new Set<keyof VerifyRequest>();
    for (const [k, v] of Object.entries(obj)) {
      if ((TARGET_FIELDS as readonly string[]).includes(k)) continue;
      const field = Object.hasOwn(STRING_FIELDS, k) ? STRING_FIELDS[k] : undefined;
      if (field) {
        if (typeof v !== 'string' || v === '') {
          bad = `"${k}" must be a non-empty string`;
          break;
        }
        (req as unknown as Record<string, unknown>)[field] = PATH_FIELDS.has(field) ? rel(v) : v;
        keysGiven.add(field);
      } else if ((CLAIM_LIST_OPTIONS as readonly string[]).includes(k)) {
        if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) {
          bad = `"${k}" must be a list of event names`;
          break;
        }
        (req as unknown as Record<string, unknown>)[k] = v;
        keysGiven.add(k as keyof VerifyRequest);
      } else if (k === 'ignorePaths') {
        if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) {
          bad = '"ignorePaths" must be a list of paths';
          break;
        }
        req.ignorePaths = (v as string[]).map(rel);
      } else if (k === 'ignoreGitPaths' || k === 'allowSymlinks') {
        if (typeof v !== 'boolean') {
          bad = `"${k}" must be true or false`;
          break;
        }
        req[k] = v;
      } else {
        bad = `unknown field "${k}"${suggestion(k, [...Object.keys(STRING_FIELDS), ...TARGET_FIELDS, 'ignorePaths', 'ignoreGitPaths', 'allowSymlinks'])}`;
        break;
      }
    }
    if (bad) {
      out.push({ line, error: bad });
      continue;
    }
    // A line that names its own signer replaces the command line's signer, not merges with it.
    const signerFields: Array<keyof VerifyRequest> = [...SIGNER_IDENTITY_KEYS, 'certificateChain'];
    if (signerFields.some((f) => keysGiven.has(f))) for (const f of signerFields) if (!keysGiven.has(f)) delete req[f];
    // Claim constraints add up: the command line's hold for every line, whoever the line names as
    // signer; a line may add its own, never drop or contradict the command line's.
    try {
      const lineClaims = copyClaimOptions(obj, {});
      const merged = layerClaims(copyClaimOptions(defaults, {}), lineClaims, 'the command line', 'this line');
      for (const k of CLAIM_OPTION_KEYS) delete req[k];
      Object.assign(req, merged);
    } catch (err) {
      out.push({ line, error: err instanceof AibomError ? err.message : String(err) });
      continue;
    }
    out.push({ line, request: req });
  }
  return out;
}

export interface BatchResult extends VerificationResult {
  line: number;
}

/** Run every entry; an entry that cannot run (bad line, missing file) is a failed result, not an abort. */
export async function runBatch(session: VerifySession, entries: BatchEntry[], onResult?: (r: BatchResult) => void): Promise<BatchResult[]> {
  const results: BatchResult[] = [];
  for (const e of entries) {
    let r: BatchResult;
    if (!e.request) {
      r = { line: e.line, verified: false, target: { kind: 'file', name: `line ${e.line}` }, bundle: '', reason: 'input', error: e.error ?? 'unusable line' };
    } else {
      try {
        r = { line: e.line, ...(await session.verify(e.request)) };
      } catch (err) {
        const message = err instanceof AibomError ? err.describe() : err instanceof Error ? err.message : String(err);
        r = {
          line: e.line,
          verified: false,
          target: { kind: 'file', name: e.request.target },
          bundle: e.request.bundle ?? '',
          reason: 'input',
          error: message,
        };
      }
    }
    results.push(r);
    onResult?.(r);
  }
  return results;
}
