import { dirname, resolve } from 'node:path';
import { isMap, isScalar, LineCounter } from 'yaml';
import { AibomError } from '../errors.js';
import { readTextBounded } from '../util/fs.js';
import { isObject } from '../util/json.js';
import { schemaValidator } from '../util/precompiled.js';
import { duplicateKey, parseYamlDocument } from '../util/yaml.js';
import { buildClaimPolicy, CLAIM_OPTION_KEYS, copyClaimOptions, hasClaimOptions } from '../verification/claim-policy.js';
import { suggestion } from '../util/did-you-mean.js';
import { defaultPolicy, type Policy, RULE_IDS, type SignerPolicy } from './types.js';

/** Every key a policy file can have, for "did you mean". */
const POLICY_KEYS = [
  'rules', 'release', 'publishers', 'requirePublisherSignature', 'includeDevPackages', 'licenses', 'allow', 'deny', 'exceptions',
  'component', 'reason', 'expires', 'match', 'identity', 'identityRegexp', 'issuer', 'issuerRegexp', 'key', 'keyFingerprint', ...RULE_IDS,
  'minVersion', 'notBefore', 'packages', 'provenance', 'minimumReleaseAge', 'releaseAgeAllow', ...CLAIM_OPTION_KEYS,
];
/**
 * The names the CLI flags and the runtime config use for a signer's identity: a policy names
 * them identity, identityRegexp, issuer, issuerRegexp and key.
 */
const IDENTITY_ALIASES: Record<string, string> = {
  certificateIdentity: 'identity',
  certificateIdentityRegexp: 'identityRegexp',
  certificateOidcIssuer: 'issuer',
  certificateOidcIssuerRegexp: 'issuerRegexp',
  'certificate-identity': 'identity',
  'certificate-identity-regexp': 'identityRegexp',
  'certificate-oidc-issuer': 'issuer',
  'certificate-oidc-issuer-regexp': 'issuerRegexp',
  publicKey: 'key',
};
/** Rule ids an exception can name: the gate's, the start-up check's, and `*` (all). */
const EXCEPTION_RULE_IDS: string[] = [
  ...RULE_IDS,
  'plugin-digest',
  'plugin-version',
  'plugin-symlink',
  'plugin-unlisted',
  'plugin-missing',
  '*',
];

const MAX_POLICY_BYTES = 1024 * 1024;
/** A PEM public key is under 1 KiB (RSA-4096: 800 bytes); room for comments. */
const MAX_KEY_BYTES = 64 * 1024;

type Validator = ((d: unknown) => boolean) & {
  errors?: Array<{ instancePath: string; keyword: string; message?: string; params: Record<string, unknown> }> | null;
};
let validator: Validator | undefined;

async function policyValidator(): Promise<Validator> {
  if (validator) return validator;
  // Precompiled by scripts/gen-schema-validators.mjs while current (no ajv import and compile per process).
  validator = schemaValidator('policy', 'aibom-policy.schema.json') as Validator;
  return validator;
}

/** A path in the policy document (keys and list indexes). */
type PolicyPath = Array<string | number>;
/** The 1-based line of a path in the policy file (of the nearest node that has one). */
type LineOf = (path: PolicyPath) => number | undefined;

/** The parsed policy: its plain data, and where each path and key is in the file. */
interface ParsedPolicy {
  data: unknown;
  lineOf: LineOf;
  /** Line of a key (not its value) inside the map at `path`. */
  lineOfKey: (path: PolicyPath, key: string) => number | undefined;
}

/**
 * Load a policy file (YAML or JSON; JSON is read by the YAML parser too, so every error can
 * name its line). Policy files are hostile input: unknown keys, wrong types, bad regexps and
 * unreadable keys are errors naming the file and line, never silently ignored.
 */
export async function loadPolicy(file: string): Promise<Policy> {
  const text = await readTextBounded(file, MAX_POLICY_BYTES, file);
  const parsed = parsePolicyText(text, file);
  await validatePolicy(parsed, file);
  const { lineOf } = parsed;
  const raw = parsed.data as Record<string, unknown>;
  const policy = defaultPolicy();
  policy.source = file;
  const base = dirname(resolve(file));
  if (isObject(raw.release)) policy.release = await readRelease(raw.release, file, base, lineOf);
  if (Array.isArray(raw.publishers)) {
    for (const [i, p] of raw.publishers.entries()) {
      const rec = p as Record<string, unknown>;
      const s = await readSigner(rec, ['publishers', i], file, base, lineOf);
      policy.publishers.push({ ...s, match: String(rec.match) });
    }
  }
  if (typeof raw.requirePublisherSignature === 'boolean') policy.requirePublisherSignature = raw.requirePublisherSignature;
  if (typeof raw.includeDevPackages === 'boolean') policy.includeDevPackages = raw.includeDevPackages;
  if (isObject(raw.packages)) policy.packages = packagesPolicy(raw.packages);
  if (isObject(raw.rules)) for (const [k, v] of Object.entries(raw.rules)) (policy.rules as Record<string, boolean>)[k] = v === true;
  if (isObject(raw.licenses)) {
    if (Array.isArray(raw.licenses.allow)) policy.licenses.allow = raw.licenses.allow as string[];
    if (Array.isArray(raw.licenses.deny)) policy.licenses.deny = raw.licenses.deny as string[];
  }
  if (Array.isArray(raw.exceptions)) {
    for (const [i, e] of raw.exceptions.entries()) policy.exceptions.push(readException(e as Record<string, unknown>, i, file, lineOf));
  }
  return policy;
}

/** Parse (bounded), refuse syntax errors and duplicate keys with their line, and map paths to lines. */
function parsePolicyText(text: string, file: string): ParsedPolicy {
  const lc = new LineCounter();
  // Bounded (src/util/yaml.ts); duplicate keys in one linear pass (yaml's own check is quadratic).
  const doc = parseYamlDocument(text, { lineCounter: lc, uniqueKeys: false });
  if (doc.errors.length) {
    const e = doc.errors[0]!;
    const pos = lc.linePos(e.pos[0]);
    throw new AibomError('INPUT', `line ${pos.line}: not valid YAML/JSON: ${e.message.split('\n')[0]}`, { file });
  }
  const dup = duplicateKey(doc);
  if (dup) throw new AibomError('INPUT', `line ${lc.linePos(dup.offset).line}: not valid YAML/JSON: duplicate key ${JSON.stringify(dup.key)}`, { file });
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    throw new AibomError('INPUT', `cannot read policy: ${(err as Error).message}`, { file });
  }
  const lineOf: LineOf = (path) => {
    for (let p = path; p.length >= 0; p = p.slice(0, -1)) {
      const node = p.length ? doc.getIn(p, true) : doc.contents;
      const range = (node as { range?: [number, number, number] } | null)?.range;
      if (range) return lc.linePos(range[0]).line;
      if (!p.length) return undefined;
    }
    return undefined;
  };
  const lineOfKey = (path: PolicyPath, key: string): number | undefined => {
    const parent = path.length ? doc.getIn(path, true) : doc.contents;
    if (isMap(parent)) {
      for (const item of parent.items) {
        if (isScalar(item.key) && String(item.key.value) === key && item.key.range) return lc.linePos(item.key.range[0]).line;
      }
    }
    return lineOf([...path, key]);
  };
  return { data, lineOf, lineOfKey };
}

/** The policy schema: up to ten errors, each with its line and path; an unknown key with a "did you mean". */
async function validatePolicy({ data, lineOf, lineOfKey }: ParsedPolicy, file: string): Promise<void> {
  const validate = await policyValidator();
  if (validate(data)) return;
  const msgs = (validate.errors ?? []).slice(0, 10).map((e) => {
    const path = e.instancePath.split('/').slice(1).map((s) => (/^\d+$/.test(s) ? Number(s) : s.replace(/~1/g, '/').replace(/~0/g, '~')));
    let what = e.message ?? e.keyword;
    let line = lineOf(path);
    if (e.keyword === 'additionalProperties') {
      const key = String(e.params.additionalProperty);
      what = `unknown key "${key}"${suggestion(key, POLICY_KEYS, IDENTITY_ALIASES)}`;
      line = lineOfKey(path, key);
    }
    const where = path.length ? path.join('.') : '(top level)';
    return `${line ? `line ${line}: ` : ''}${where}: ${what}`;
  });
  throw new AibomError('INPUT', `invalid policy:\n  ${msgs.join('\n  ')}`, { file });
}

/** `release`: the signer of the BOM, with an optional lowest version and earliest signing time. */
async function readRelease(release: Record<string, unknown>, file: string, base: string, lineOf: LineOf): Promise<NonNullable<Policy['release']>> {
  const { minVersion, notBefore, ...signer } = release;
  const out: NonNullable<Policy['release']> = await readSigner(signer, ['release'], file, base, lineOf);
  if (typeof minVersion === 'string') {
    const { default: semver } = await import('semver');
    if (!semver.valid(minVersion)) throw new AibomError('INPUT', `${lineOf(['release', 'minVersion']) ? `line ${lineOf(['release', 'minVersion'])}: ` : ''}release.minVersion: "${minVersion.slice(0, 100)}" is not a semantic version`, { file });
    out.minVersion = minVersion;
  }
  if (typeof notBefore === 'string') {
    if (!Number.isFinite(Date.parse(notBefore))) throw new AibomError('INPUT', `release.notBefore: "${notBefore.slice(0, 100)}" is not a date-time`, { file });
    out.notBefore = notBefore;
  }
  return out;
}

/** One exception: a real expiry date, and only rule ids the gate or the start-up check knows. */
function readException(rec: Record<string, unknown>, i: number, file: string, lineOf: LineOf): Policy['exceptions'][number] {
  const expires = String(rec.expires);
  const parsed = new Date(`${expires}T00:00:00Z`);
  if (Number.isNaN(parsed.getTime()) || parsed.toISOString().slice(0, 10) !== expires) {
    throw new AibomError('INPUT', `line ${lineOf(['exceptions', i, 'expires']) ?? '?'}: exceptions.${i}.expires: not a real date "${expires}"`, {
      file,
    });
  }
  const ex: Policy['exceptions'][number] = { component: String(rec.component), reason: String(rec.reason), expires };
  if (Array.isArray(rec.rules)) {
    for (const [j, r] of (rec.rules as string[]).entries()) {
      if (!EXCEPTION_RULE_IDS.includes(r)) {
        throw new AibomError(
          'INPUT',
          `line ${lineOf(['exceptions', i, 'rules', j]) ?? '?'}: exceptions.${i}.rules.${j}: unknown rule id "${r}"${suggestion(r, EXCEPTION_RULE_IDS)}; ` +
            `rule ids: ${EXCEPTION_RULE_IDS.join(', ')}`,
          { file },
        );
      }
    }
    ex.rules = rec.rules as string[];
  }
  const line = lineOf(['exceptions', i]);
  if (line) ex.line = line;
  return ex;
}

async function readSigner(
  rec: Record<string, unknown>,
  path: Array<string | number>,
  file: string,
  base: string,
  lineOf: (p: Array<string | number>) => number | undefined,
): Promise<SignerPolicy> {
  const where = path.join('.');
  const fail = (key: string, msg: string): never => {
    const line = lineOf([...path, key]);
    throw new AibomError('INPUT', `${line ? `line ${line}: ` : ''}${where}.${key}: ${msg}`, { file });
  };
  const s: SignerPolicy = {};
  for (const key of ['identityRegexp', 'issuerRegexp'] as const) {
    const v = rec[key];
    if (typeof v === 'string') {
      try {
        new RegExp(`^(?:${v})$`);
      } catch (err) {
        fail(key, `not a valid regular expression: ${(err as Error).message}`);
      }
      s[key] = v;
    }
  }
  if (typeof rec.identity === 'string') s.identity = rec.identity;
  if (typeof rec.issuer === 'string') s.issuer = rec.issuer;
  if (typeof rec.keyFingerprint === 'string') s.keyFingerprint = rec.keyFingerprint.replace(/^sha256:/, '');
  if (typeof rec.key === 'string') {
    const keyPath = resolve(base, rec.key);
    try {
      // Bounded, and never a FIFO or device: the path comes from the policy file.
      s.keyPem = await readTextBounded(keyPath, MAX_KEY_BYTES, keyPath);
      s.keyPath = keyPath;
    } catch (err) {
      fail('key', `cannot read public key file "${rec.key}"${err instanceof AibomError ? `: ${err.message}` : ''}`);
    }
    if (!/-----BEGIN PUBLIC KEY-----/.test(s.keyPem ?? '')) fail('key', `"${rec.key}" is not a PEM public key`);
  }
  const hasIdentity = s.identity !== undefined || s.identityRegexp !== undefined;
  const hasIssuer = s.issuer !== undefined || s.issuerRegexp !== undefined;
  const hasKey = s.keyPem !== undefined || s.keyFingerprint !== undefined;
  if (s.identity && s.identityRegexp) fail('identityRegexp', 'give identity or identityRegexp, not both');
  if (s.issuer && s.issuerRegexp) fail('issuerRegexp', 'give issuer or issuerRegexp, not both');
  if (!hasKey && !(hasIdentity && hasIssuer)) {
    fail(hasIdentity ? 'issuer' : 'identity', 'a signer needs identity (or identityRegexp) and issuer (or issuerRegexp), or a key');
  }
  if (hasKey && (hasIdentity || hasIssuer)) fail('key', 'a signer is either a key or a certificate identity, not both');
  copyClaimOptions(rec, s);
  if (hasClaimOptions(s)) {
    const claimKey = CLAIM_OPTION_KEYS.find((k) => s[k] !== undefined)!;
    if (hasKey) fail(claimKey, 'certificate claims constrain a keyless signer (identity and issuer), not a key');
    try {
      buildClaimPolicy(s);
    } catch (err) {
      fail(claimKey, err instanceof AibomError ? err.message.replace(/--([a-z-]+)/g, (_, f: string) => f.replace(/-([a-z])/g, (__, c: string) => c.toUpperCase())) : String(err));
    }
  }
  return s;
}

function packagesPolicy(raw: Record<string, unknown>): NonNullable<Policy['packages']> {
  // Types and patterns are checked by the schema.
  const out: NonNullable<Policy['packages']> = {};
  if (raw.provenance !== undefined) out.provenance = raw.provenance as NonNullable<Policy['packages']>['provenance'];
  if (typeof raw.minimumReleaseAge === 'string') {
    const m = /^(\d+)([dh])$/.exec(raw.minimumReleaseAge)!;
    out.minimumReleaseAge = raw.minimumReleaseAge;
    out.minimumReleaseAgeMs = Number(m[1]) * (m[2] === 'd' ? 86_400_000 : 3_600_000);
  }
  if (Array.isArray(raw.releaseAgeAllow)) out.releaseAgeAllow = raw.releaseAgeAllow as string[];
  return out;
}
