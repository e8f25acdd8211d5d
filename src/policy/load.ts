import { dirname, resolve } from 'node:path';
import { isMap, isScalar, LineCounter } from 'yaml';
import { AibomError } from '../errors.js';
import { readTextBounded } from '../util/fs.js';
import { isObject } from '../util/json.js';
import { schemaValidator } from '../util/precompiled.js';
import { duplicateKey, parseYamlDocument } from '../util/yaml.js';
import { defaultPolicy, type Policy, type SignerPolicy } from './types.js';

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

/**
 * Load a policy file (YAML or JSON; JSON is read by the YAML parser too, so every error can
 * name its line). Policy files are hostile input: unknown keys, wrong types, bad regexps and
 * unreadable keys are errors naming the file and line, never silently ignored.
 */
export async function loadPolicy(file: string): Promise<Policy> {
  const text = await readTextBounded(file, MAX_POLICY_BYTES, file);
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
  const lineOf = (path: Array<string | number>): number | undefined => {
    for (let p = path; p.length >= 0; p = p.slice(0, -1)) {
      const node = p.length ? doc.getIn(p, true) : doc.contents;
      const range = (node as { range?: [number, number, number] } | null)?.range;
      if (range) return lc.linePos(range[0]).line;
      if (!p.length) return undefined;
    }
    return undefined;
  };
  /** Line of a key (not its value) inside the map at `path`. */
  const lineOfKey = (path: Array<string | number>, key: string): number | undefined => {
    const parent = path.length ? doc.getIn(path, true) : doc.contents;
    if (isMap(parent)) {
      for (const item of parent.items) {
        if (isScalar(item.key) && String(item.key.value) === key && item.key.range) return lc.linePos(item.key.range[0]).line;
      }
    }
    return lineOf([...path, key]);
  };
  const validate = await policyValidator();
  if (!validate(data)) {
    const msgs = (validate.errors ?? []).slice(0, 10).map((e) => {
      const path = e.instancePath.split('/').slice(1).map((s) => (/^\d+$/.test(s) ? Number(s) : s.replace(/~1/g, '/').replace(/~0/g, '~')));
      let what = e.message ?? e.keyword;
      let line = lineOf(path);
      if (e.keyword === 'additionalProperties') {
        const key = String(e.params.additionalProperty);
        what = `unknown key "${key}"`;
        line = lineOfKey(path, key);
      }
      const where = path.length ? path.join('.') : '(top level)';
      return `${line ? `line ${line}: ` : ''}${where}: ${what}`;
    });
    throw new AibomError('INPUT', `invalid policy:\n  ${msgs.join('\n  ')}`, { file });
  }
  const raw = data as Record<string, unknown>;
  const policy = defaultPolicy();
  policy.source = file;
  const base = dirname(resolve(file));
  if (isObject(raw.release)) {
    const { minVersion, notBefore, ...signer } = raw.release;
    policy.release = await readSigner(signer, ['release'], file, base, lineOf);
    if (typeof minVersion === 'string') {
      const { default: semver } = await import('semver');
      if (!semver.valid(minVersion)) throw new AibomError('INPUT', `${lineOf(['release', 'minVersion']) ? `line ${lineOf(['release', 'minVersion'])}: ` : ''}release.minVersion: "${minVersion.slice(0, 100)}" is not a semantic version`, { file });
      policy.release.minVersion = minVersion;
    }
    if (typeof notBefore === 'string') {
      if (!Number.isFinite(Date.parse(notBefore))) throw new AibomError('INPUT', `release.notBefore: "${notBefore.slice(0, 100)}" is not a date-time`, { file });
      policy.release.notBefore = notBefore;
    }
  }
  if (Array.isArray(raw.publishers)) {
    for (const [i, p] of raw.publishers.entries()) {
      const rec = p as Record<string, unknown>;
      const s = await readSigner(rec, ['publishers', i], file, base, lineOf);
      policy.publishers.push({ ...s, match: String(rec.match) });
    }
  }
  if (typeof raw.requirePublisherSignature === 'boolean') policy.requirePublisherSignature = raw.requirePublisherSignature;
  if (typeof raw.includeDevPackages === 'boolean') policy.includeDevPackages = raw.includeDevPackages;
  if (isObject(raw.rules)) for (const [k, v] of Object.entries(raw.rules)) (policy.rules as Record<string, boolean>)[k] = v === true;
  if (isObject(raw.licenses)) {
    if (Array.isArray(raw.licenses.allow)) policy.licenses.allow = raw.licenses.allow as string[];
    if (Array.isArray(raw.licenses.deny)) policy.licenses.deny = raw.licenses.deny as string[];
  }
  if (Array.isArray(raw.exceptions)) {
    for (const [i, e] of raw.exceptions.entries()) {
      const rec = e as Record<string, unknown>;
      const expires = String(rec.expires);
      const parsed = new Date(`${expires}T00:00:00Z`);
      if (Number.isNaN(parsed.getTime()) || parsed.toISOString().slice(0, 10) !== expires) {
        throw new AibomError('INPUT', `line ${lineOf(['exceptions', i, 'expires']) ?? '?'}: exceptions.${i}.expires: not a real date "${expires}"`, {
          file,
        });
      }
      const ex: Policy['exceptions'][number] = { component: String(rec.component), reason: String(rec.reason), expires };
      if (Array.isArray(rec.rules)) ex.rules = rec.rules as string[];
      const line = lineOf(['exceptions', i]);
      if (line) ex.line = line;
      policy.exceptions.push(ex);
    }
  }
  return policy;
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
  return s;
}

