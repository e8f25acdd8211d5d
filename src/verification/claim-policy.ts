/**
 * The claim half of a keyless identity policy: what the signing certificate's Fulcio claims
 * (claims.ts) must say. Built by policy.ts (the one identity-policy builder) from the same
 * option names everywhere: CLI flags (`--source-repository`, …), policy files (`release`,
 * `publishers`), the runtime config and batch files.
 *
 * Defaults, for every keyless identity: a certificate whose build trigger is
 * `pull_request_target`, or whose runner is `self-hosted`, is refused unless the policy allows
 * it (`allowTrigger: [pull_request_target]`, `runnerEnvironment: self-hosted|any`): both let
 * code the project did not review run with the release workflow's identity. A claim the
 * certificate does not carry is never "allowed by default" when the policy constrains it:
 * an absent claim fails a constraint.
 */
import { AibomError } from '../errors.js';
import { CLAIM_LABELS, type CertificateClaims, CLAIM_OIDS, type ClaimName, FULCIO_OID_PREFIX } from './claims.js';
import { anchoredRegExp, describeMatcher, type Matcher } from './matcher.js';

/** The claim options, under the same names in flags (kebab-case), policy files, runtime config and batch files. */
export interface ClaimOptions {
  sourceRepository?: string;
  sourceRepositoryRegexp?: string;
  sourceRef?: string;
  sourceRefRegexp?: string;
  sourceDigest?: string;
  signerWorkflow?: string;
  signerWorkflowRegexp?: string;
  /** github-hosted, self-hosted, or any. */
  runnerEnvironment?: string;
  /** Build triggers to refuse, on top of the default (pull_request_target). */
  denyTrigger?: string[];
  /** Build triggers to accept although denied by default. */
  allowTrigger?: string[];
}

export const CLAIM_STRING_OPTIONS = [
  'sourceRepository',
  'sourceRepositoryRegexp',
  'sourceRef',
  'sourceRefRegexp',
  'sourceDigest',
  'signerWorkflow',
  'signerWorkflowRegexp',
  'runnerEnvironment',
] as const satisfies ReadonlyArray<keyof ClaimOptions>;
export const CLAIM_LIST_OPTIONS = ['denyTrigger', 'allowTrigger'] as const satisfies ReadonlyArray<keyof ClaimOptions>;
export const CLAIM_OPTION_KEYS: ReadonlyArray<keyof ClaimOptions> = [...CLAIM_STRING_OPTIONS, ...CLAIM_LIST_OPTIONS];

export const RUNNER_ENVIRONMENTS = ['github-hosted', 'self-hosted', 'any'] as const;
export const DEFAULT_DENIED_TRIGGERS = ['pull_request_target'] as const;

export interface ClaimPolicy {
  sourceRepository?: Matcher;
  sourceRef?: Matcher;
  /** Lower-case. */
  sourceDigest?: string;
  signerWorkflow?: Matcher;
  /** 'default': any runner but self-hosted (an absent claim passes). */
  runner: 'default' | 'github-hosted' | 'self-hosted' | 'any';
  denyTriggers: string[];
}

export const DEFAULT_CLAIM_POLICY: ClaimPolicy = Object.freeze({ runner: 'default', denyTriggers: [...DEFAULT_DENIED_TRIGGERS] }) as ClaimPolicy;

const MAX_VALUE = 4096;
const MAX_TRIGGERS = 64;
const TRIGGER_RE = /^[A-Za-z0-9_.-]{1,128}$/;

/** Copy the claim options present in `from` (any record: parsed flags, a policy entry) onto `to`. */
export function copyClaimOptions<T extends ClaimOptions>(from: object, to: T): T {
  const src = from as Record<string, unknown>;
  for (const k of CLAIM_STRING_OPTIONS) if (typeof src[k] === 'string') to[k] = src[k] as string;
  for (const k of CLAIM_LIST_OPTIONS) {
    const v = src[k];
    if (Array.isArray(v)) to[k] = v.map(String);
    else if (typeof v === 'string') to[k] = [v];
  }
  return to;
}

/**
 * Claim constraints from two places that both apply (a policy's `release` and the flags that
 * name the signer; the command line and a batch line): constraints add up, never replace one
 * another, so naming the signer in one place cannot drop what the other place requires. The
 * same key with two values cannot both hold: a usage error naming both. Denied triggers are
 * the union; allowed triggers, when both places list some, only those both allow.
 */
export function layerClaims(lower: ClaimOptions, upper: ClaimOptions, lowerName: string, upperName: string): ClaimOptions {
  const out: ClaimOptions = copyClaimOptions(lower, {});
  for (const k of CLAIM_STRING_OPTIONS) {
    const u = upper[k];
    if (u === undefined) continue;
    if (out[k] !== undefined && out[k] !== u) {
      throw new AibomError('USAGE', `${kebab(k)} is ${JSON.stringify(out[k])} in ${lowerName} and ${JSON.stringify(u)} in ${upperName}; both would apply, so give one`);
    }
    out[k] = u;
  }
  if (upper.denyTrigger) out.denyTrigger = [...new Set([...(out.denyTrigger ?? []), ...upper.denyTrigger])];
  if (upper.allowTrigger) out.allowTrigger = out.allowTrigger ? out.allowTrigger.filter((t) => upper.allowTrigger!.includes(t)) : [...upper.allowTrigger];
  return out;
}

export function hasClaimOptions(o: ClaimOptions): boolean {
  return CLAIM_OPTION_KEYS.some((k) => o[k] !== undefined && !(Array.isArray(o[k]) && o[k].length === 0));
}

const kebab = (k: string) => k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

function matcher(o: ClaimOptions, exactKey: keyof ClaimOptions, regexpKey: keyof ClaimOptions): Matcher | undefined {
  const exact = o[exactKey] as string | undefined;
  const regexp = o[regexpKey] as string | undefined;
  if (exact !== undefined && regexp !== undefined) throw new AibomError('USAGE', `give --${kebab(exactKey)} or --${kebab(regexpKey)}, not both`);
  if (exact !== undefined) {
    if (exact === '' || exact.length > MAX_VALUE) throw new AibomError('USAGE', `--${kebab(exactKey)} must be 1 to ${MAX_VALUE} characters`);
    return { exact };
  }
  if (regexp !== undefined) {
    if (regexp === '') throw new AibomError('USAGE', `--${kebab(regexpKey)} is empty`);
    return { regexp, re: anchoredRegExp(regexp, `--${kebab(regexpKey)}`) };
  }
  return undefined;
}

function triggers(list: string[] | undefined, key: string): string[] {
  if (list === undefined) return [];
  if (list.length > MAX_TRIGGERS) throw new AibomError('USAGE', `--${kebab(key)}: more than ${MAX_TRIGGERS} triggers`);
  for (const t of list) {
    if (!TRIGGER_RE.test(t)) throw new AibomError('USAGE', `--${kebab(key)} ${JSON.stringify(t.slice(0, 140))}: an event name is letters, digits, _ . -`);
  }
  return list;
}

/** Compile claim options (usage errors, exit 2). */
export function buildClaimPolicy(o: ClaimOptions): ClaimPolicy {
  const policy: ClaimPolicy = { runner: 'default', denyTriggers: [] };
  const repo = matcher(o, 'sourceRepository', 'sourceRepositoryRegexp');
  if (repo) policy.sourceRepository = repo;
  const ref = matcher(o, 'sourceRef', 'sourceRefRegexp');
  if (ref) policy.sourceRef = ref;
  const wf = matcher(o, 'signerWorkflow', 'signerWorkflowRegexp');
  if (wf) policy.signerWorkflow = wf;
  if (o.sourceDigest !== undefined) {
    if (!/^[0-9a-fA-F]{7,128}$/.test(o.sourceDigest)) throw new AibomError('USAGE', '--source-digest is a commit digest (hex)');
    policy.sourceDigest = o.sourceDigest.toLowerCase();
  }
  if (o.runnerEnvironment !== undefined) {
    if (!(RUNNER_ENVIRONMENTS as readonly string[]).includes(o.runnerEnvironment)) {
      throw new AibomError('USAGE', `--runner-environment ${JSON.stringify(o.runnerEnvironment.slice(0, 140))}: choose ${RUNNER_ENVIRONMENTS.join(', ')}`);
    }
    policy.runner = o.runnerEnvironment as ClaimPolicy['runner'];
  }
  const allow = new Set(triggers(o.allowTrigger, 'allowTrigger'));
  const deny = triggers(o.denyTrigger, 'denyTrigger');
  for (const t of deny) if (allow.has(t)) throw new AibomError('USAGE', `trigger ${t} is both denied and allowed`);
  policy.denyTriggers = [...new Set([...DEFAULT_DENIED_TRIGGERS.filter((t) => !allow.has(t)), ...deny])];
  return policy;
}

/** Longest claim value matched against a user's regular expression. */
const MAX_MATCHED = 8192;

function oid(name: ClaimName): string {
  return `${FULCIO_OID_PREFIX}.${CLAIM_OIDS[name]}`;
}

function describeActual(name: ClaimName, value: string | undefined): string {
  return value === undefined ? `the certificate has no ${CLAIM_LABELS[name]} claim (OID ${oid(name)})` : `certificate claim ${CLAIM_LABELS[name]} is ${JSON.stringify(value)}`;
}

function matches(m: Matcher, value: string | undefined): boolean {
  if (value === undefined || value.length > MAX_MATCHED) return false;
  return 'exact' in m ? m.exact === value : m.re.test(value);
}

/** Check the certificate's claims against the policy; the first failure as a message (expected and actual), or undefined. */
export function checkClaims(policy: ClaimPolicy, claims: CertificateClaims): string | undefined {
  const checks: Array<[ClaimName, Matcher | undefined]> = [
    ['sourceRepositoryURI', policy.sourceRepository],
    ['sourceRepositoryRef', policy.sourceRef],
    ['buildSignerURI', policy.signerWorkflow],
  ];
  for (const [name, m] of checks) {
    if (m && !matches(m, claims[name])) return `${describeActual(name, claims[name])}, expected ${describeMatcher(m)}`;
  }
  if (policy.sourceDigest !== undefined && claims.sourceRepositoryDigest?.toLowerCase() !== policy.sourceDigest) {
    return `${describeActual('sourceRepositoryDigest', claims.sourceRepositoryDigest)}, expected ${JSON.stringify(policy.sourceDigest)}`;
  }
  const runner = claims.runnerEnvironment;
  if (policy.runner === 'default' && runner === 'self-hosted') {
    return `${describeActual('runnerEnvironment', runner)}, expected "github-hosted" (self-hosted runners are refused unless the policy allows them: runner-environment self-hosted or any)`;
  }
  if ((policy.runner === 'github-hosted' || policy.runner === 'self-hosted') && runner !== policy.runner) {
    return `${describeActual('runnerEnvironment', runner)}, expected ${JSON.stringify(policy.runner)}`;
  }
  const trigger = claims.buildTrigger;
  if (trigger === undefined && policy.denyTriggers.some((t) => !(DEFAULT_DENIED_TRIGGERS as readonly string[]).includes(t))) {
    // Fail closed: a certificate that names no trigger (neither the claim nor Fulcio's legacy
    // extension) cannot be shown not to come from a trigger the policy itself denies. The
    // default denial alone does not require the claim: certificates of other issuers carry none.
    return `${describeActual('buildTrigger', trigger)}, so it cannot be shown not to come from ${policy.denyTriggers.map((t) => JSON.stringify(t)).join(', ')}`;
  }
  if (trigger !== undefined && policy.denyTriggers.includes(trigger)) {
    const byDefault = (DEFAULT_DENIED_TRIGGERS as readonly string[]).includes(trigger) ? ' (refused by default; allow it with allow-trigger)' : '';
    return `${describeActual('buildTrigger', trigger)}, expected none of ${policy.denyTriggers.map((t) => JSON.stringify(t)).join(', ')}${byDefault}`;
  }
  return undefined;
}
