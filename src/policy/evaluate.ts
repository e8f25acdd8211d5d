import picomatch from 'picomatch';
import { type InventoryReport, type InventoryRow, STRONG_HASH_ALGS } from '../bom/rows.js';
import type { Finding, Location } from '../inventory/types.js';
import type { Provenance } from './provenance.js';
import type { Policy, PolicyException, RuleId } from './types.js';

/** Result of checking one signature (done by the caller: verification is not the policy's I/O). */
export interface SignatureCheck {
  verified: boolean;
  /** Signer identity (certificate SAN) or key fingerprint. */
  signer?: string;
  issuer?: string;
  /** Why it did not verify or is not trusted. */
  reason?: string;
  /** What the provenance lock records of a verified signer (provenance.ts). */
  provenance?: Provenance;
}

export interface ArtifactCheck {
  artifact: string;
  digest: string;
  /** Verified attestations whose subject matches this artifact. */
  attestations: Array<{ predicateType: string; signer?: string }>;
  /** Why none counted (when empty). */
  reason?: string;
}

export interface GateContext {
  /** Today, for exception expiry. */
  now: Date;
  /** Per bom-ref: the result of verifying the component's own signature bundle, when there was one. */
  signatures?: Map<string, SignatureCheck>;
  /** The BOM's own bundle, when `--bundle` was given. */
  bomSignature?: SignatureCheck;
  /** Release artifacts, when `--artifacts` was given. */
  artifacts?: ArtifactCheck[];
}

export interface GateFailure {
  rule: RuleId;
  /** bom-ref of the component, or the artifact / BOM path. */
  subject: string;
  name: string;
  message: string;
  fix: string;
  location?: Location;
}

export interface GateResult {
  passed: boolean;
  failures: GateFailure[];
  /** Failures an exception covered. */
  excepted: Array<GateFailure & { exception: PolicyException }>;
  checked: number;
  policy: string;
  /** Exceptions that name no component of the BOM and no failure (stale, or misspelled): warned, never an error. */
  unusedExceptions?: PolicyException[];
}

const SHA256 = 'SHA-256';
const MODEL_LINK_FIX = 'put the model file itself in the release, not a symbolic link to it';

/** Is a rule switched on in the policy? */
type RuleOn = (r: keyof Policy['rules']) => boolean;
/** Record a failure of one rule for one row. */
type RowFail = (row: InventoryRow, rule: RuleId, message: string, fix: string) => void;

/** What the per-row checks need: the policy, the caller's verification results, and the two callbacks. */
interface RowCheck {
  policy: Policy;
  ctx: GateContext;
  on: RuleOn;
  fail: RowFail;
}

/**
 * Evaluate an inventory (read from a BOM) against a policy. Pure: every check that needs I/O
 * (signature verification) is done by the caller and passed in `ctx`.
 */
export function evaluatePolicy(inv: InventoryReport, policy: Policy, ctx: GateContext): GateResult {
  const failures: GateFailure[] = [];
  const on: RuleOn = (r) => policy.rules[r];
  const fail: RowFail = (row, rule, message, fix) => {
    const f: GateFailure = { rule, subject: row.ref, name: label(row), message, fix };
    if (row.locations[0]) f.location = row.locations[0];
    failures.push(f);
  };
  const check: RowCheck = { policy, ctx, on, fail };
  for (const row of inv.rows) checkRow(row, check);
  checkUnreadFindings(inv, on, failures);
  checkAgentParts(inv, on, failures);
  checkRelease(ctx, on, failures);
  const { remaining, excepted } = applyExceptions(failures, policy, inv, ctx.now);
  const unused = policy.exceptions.filter((e) => !namesAnything(e, inv, failures));
  return {
    passed: remaining.length === 0,
    failures: remaining,
    excepted,
    checked: inv.rows.length,
    policy: policy.source,
    ...(unused.length ? { unusedExceptions: unused } : {}),
  };
}

/** Every rule that judges one component, in a fixed order (the order of the failures it yields). */
function checkRow(row: InventoryRow, c: RowCheck): void {
  const hasSha256 = row.hashes.includes(SHA256) || !!row.folderDigest;
  checkShippedBytesHashed(row, hasSha256, c);
  if (row.kind === 'model') checkModel(row, c);
  checkPickleImports(row, c);
  if (row.kind === 'plugin') checkPlugin(row, hasSha256, c);
  if (row.kind === 'mcp-server') checkMcpServer(row, c);
  if (row.kind === 'package' && (c.policy.includeDevPackages || (row.scope !== 'excluded' && !row.dev))) checkPackage(row, c);
  checkLicenses(row, c);
}

/** Models and datasets the agent carries must be hashed. */
function checkShippedBytesHashed(row: InventoryRow, hasSha256: boolean, { on, fail }: RowCheck): void {
  if (row.kind !== 'model' && row.kind !== 'dataset') return;
  // A dataset only named by a model card (training data on a hub) is not shipped with the
  // agent: there are no bytes to hash. Datasets the agent carries must be hashed.
  const referenceOnly =
    row.kind === 'dataset' && !row.properties.has('aibom:dataset:path') && row.properties.get('aibom:source')?.[0] === 'huggingface';
  if (referenceOnly) return;
  if (on('model-hashed') && !hasSha256) {
    fail(row, 'model-hashed', `${row.kind} has no SHA-256 hash`, 'rebuild the BOM with aibom build so the files are hashed');
  }
}

function checkModel(row: InventoryRow, c: RowCheck): void {
  const { on, fail } = c;
  const serialization = row.properties.get('aibom:serialization')?.[0];
  if (on('pickle-model') && serialization === 'pickle') {
    fail(
      row,
      'pickle-model',
      'model is pickle-serialized: loading it can run arbitrary code',
      'convert it to safetensors, or add a policy exception with a reason and an expiry date',
    );
  }
  if (on('model-signed')) checkSigned(row, 'model-signed', c.ctx, c.policy, fail);
  // A file of the model behind a link out of the scanned folder (or a broken one): neither
  // in the digest nor checked, and what it points to can change after the check.
  if (on('model-hashed')) {
    for (const risk of row.risks) if (risk.code === 'model-symlink') fail(row, 'model-hashed', risk.message, MODEL_LINK_FIX);
  }
}

function checkPickleImports(row: InventoryRow, { on, fail }: RowCheck): void {
  if (!on('pickle-risky-import')) return;
  for (const risk of row.risks) {
    if (/^pickle/.test(risk.code) && (risk.severity === 'high' || risk.severity === 'critical')) {
      fail(row, 'pickle-risky-import', risk.message, 'remove the file, or replace it with a safetensors export from a trusted source');
    }
  }
}

function checkPlugin(row: InventoryRow, hasSha256: boolean, c: RowCheck): void {
  const { on, fail } = c;
  const linkTarget = row.properties.get('aibom:plugin:entry-symlink')?.[0];
  if (on('plugin-pinned') && linkTarget !== undefined) {
    fail(
      row,
      'plugin-pinned',
      `plugin entry is a symbolic link (to ${linkTarget}): what it points to can change after the check`,
      'put the plugin itself in the plugin folder, not a link to it',
    );
  }
  if (on('plugin-pinned')) {
    if (!row.version) fail(row, 'plugin-pinned', 'plugin has no version', 'give the plugin manifest an exact version');
    if (!hasSha256) fail(row, 'plugin-pinned', 'plugin has no folder digest', 'rebuild the BOM with aibom build so the folder is hashed');
  }
  if (on('plugin-signed') && c.policy.requirePublisherSignature) checkSigned(row, 'plugin-signed', c.ctx, c.policy, fail);
}

function checkMcpServer(row: InventoryRow, { on, fail }: RowCheck): void {
  if (!on('mcp-pinned') || row.pinned === true) return;
  fail(
    row,
    'mcp-pinned',
    `MCP server is not pinned${row.unpinnedReason ? `: ${row.unpinnedReason}` : ''}`,
    'pin an exact version (npx -y pkg@1.2.3, uvx pkg==1.2.3) or an image digest (image@sha256:...)',
  );
}

/** A lockfile package in scope (runtime, or dev when the policy includes dev packages). */
function checkPackage(row: InventoryRow, { on, fail }: RowCheck): void {
  const workspace = row.properties.get('aibom:workspace')?.[0] === 'true';
  if (on('package-hashed') && !workspace && !row.hashes.some((h) => STRONG_HASH_ALGS.has(h))) {
    fail(
      row,
      'package-hashed',
      row.hashes.length ? `package has only ${row.hashes.join(', ')}, which do not bind content (SHA-256 or stronger needed)` : 'package has no integrity hash in its lockfile',
      'regenerate the lockfile so it records integrity hashes',
    );
  }
  if (on('package-pinned') && row.pinned === false) {
    fail(row, 'package-pinned', `package source is not pinned: ${row.unpinnedReason ?? 'no reason recorded'}`, 'pin an exact version, a git commit, or a URL with a hash');
  }
}

function checkLicenses(row: InventoryRow, { policy, on, fail }: RowCheck): void {
  if (!on('license-allowed') || !(policy.licenses.allow || policy.licenses.deny)) return;
  for (const lic of row.licenses) {
    const ids = lic.split(/(?<!\s)\s+(?:AND|OR|WITH)\s+|[()]/).map((s) => s.trim()).filter(Boolean);
    const denied = ids.filter((id) => policy.licenses.deny?.includes(id));
    if (denied.length) fail(row, 'license-allowed', `license ${denied.join(', ')} is denied by the policy`, 'replace the component or add a policy exception');
    else if (policy.licenses.allow && !ids.some((id) => policy.licenses.allow!.includes(id))) {
      fail(row, 'license-allowed', `license ${lic} is not in the policy's allow list`, 'replace the component or extend licenses.allow');
    }
  }
}

/** BOM findings for inputs the build could not take in, so nothing in the BOM stands for them. */
function checkUnreadFindings(inv: InventoryReport, on: RuleOn, failures: GateFailure[]): void {
  const push = (f: Finding, rule: RuleId, fallback: string, message: string, fix: string) => {
    const file = f.location?.file ?? fallback;
    const g: GateFailure = { rule, subject: file, name: file, message, fix };
    if (f.location) g.location = f.location;
    failures.push(g);
  };
  // An MCP client config the build could not read (too large, malformed, missing when named
  // in the config): its servers are not in the BOM, so nothing says they are pinned.
  if (on('mcp-pinned')) {
    for (const f of inv.findings) {
      if (f.code !== 'mcp-config-invalid' && f.code !== 'mcp-config-missing') continue;
      push(
        f,
        'mcp-pinned',
        '(unknown MCP config)',
        `${f.message}: the MCP servers it starts cannot be judged`,
        'make the config readable by aibom (valid JSON/TOML/YAML under 1 MiB) or remove it',
      );
    }
  }
  // A model location holding a link out of the scanned folder: the model it stands for is not in the BOM.
  if (on('model-hashed')) {
    for (const f of inv.findings) if (f.code === 'model-symlink') push(f, 'model-hashed', '(unknown model)', f.message, MODEL_LINK_FIX);
  }
}

/** The BOM's own signature and the release artifacts' attestations (when the caller checked them). */
function checkRelease(ctx: GateContext, on: RuleOn, failures: GateFailure[]): void {
  if (ctx.bomSignature && on('bom-signed') && !ctx.bomSignature.verified) {
    failures.push({
      rule: 'bom-signed',
      subject: 'bom',
      name: 'the BOM',
      message: `the BOM's signature does not verify: ${ctx.bomSignature.reason ?? 'unknown reason'}`,
      fix: 'sign the BOM in the release workflow (aibom attest / the aibom Action) with the identity in policy.release',
    });
  }
  for (const a of ctx.artifacts ?? []) {
    if (on('artifact-attested') && a.attestations.length === 0) {
      failures.push({
        rule: 'artifact-attested',
        subject: a.artifact,
        name: a.artifact,
        message: `no verified attestation for ${a.artifact} (sha256:${a.digest})${a.reason ? `: ${a.reason}` : ''}`,
        fix: 'attest it in the release workflow (actions/attest-build-provenance or aibom attest) with the expected identity',
        location: { file: a.artifact },
      });
    }
  }
}

/** Exceptions: a live one covers matching failures; an expired one fails by itself (reported once). */
function applyExceptions(
  failures: GateFailure[],
  policy: Policy,
  inv: InventoryReport,
  now: Date,
): { remaining: GateFailure[]; excepted: GateResult['excepted'] } {
  const today = now.toISOString().slice(0, 10);
  const excepted: GateResult['excepted'] = [];
  const remaining: GateFailure[] = [];
  const expiredReported = new Set<PolicyException>();
  for (const f of failures) {
    const ex = policy.exceptions.find((e) => exceptionMatches(e, f, inv));
    if (!ex) {
      remaining.push(f);
      continue;
    }
    if (ex.expires < today) {
      remaining.push(f);
      if (!expiredReported.has(ex)) {
        expiredReported.add(ex);
        remaining.push({
          rule: 'exception-expired',
          subject: f.subject,
          name: f.name,
          message: `the policy exception for "${ex.component}" expired on ${ex.expires} (reason was: ${ex.reason})`,
          fix: 'fix the underlying problem, or renew the exception with a new expiry date',
          location: { file: policy.source, ...(ex.line ? { line: ex.line } : {}) },
        });
      }
      continue;
    }
    excepted.push({ ...f, exception: ex });
  }
  return { remaining, excepted };
}

/** Does an exception's component name a component of the BOM (ref, purl, name, name@version) or a failure? */
function namesAnything(e: PolicyException, inv: InventoryReport, failures: GateFailure[]): boolean {
  const isMatch = picomatch(e.component, { dot: true });
  const hit = (n: string | undefined) => n !== undefined && (n === e.component || isMatch(n));
  return (
    inv.rows.some((r) => hit(r.ref) || hit(r.purl) || hit(r.name) || (r.version !== undefined && hit(`${r.name}@${r.version}`))) ||
    failures.some((f) => hit(f.subject) || hit(f.name))
  );
}

function label(row: InventoryRow): string {
  return row.version ? `${row.name}@${row.version}` : row.name;
}

function checkSigned(
  row: InventoryRow,
  rule: RuleId,
  ctx: GateContext,
  policy: Policy,
  fail: (row: InventoryRow, rule: RuleId, message: string, fix: string) => void,
): void {
  const what = row.kind === 'model' ? 'model' : 'plugin';
  const check = ctx.signatures?.get(row.ref);
  if (check?.verified) return;
  if (check) {
    fail(row, rule, `${what} signature does not verify against a trusted publisher: ${check.reason ?? 'not trusted'}`, policy.source.startsWith('(') ? 'sign it, and list its publisher in a policy file (--policy)' : `sign it with a publisher listed in the policy (${policy.source})`);
    return;
  }
  fail(
    row,
    rule,
    row.signature?.bundle ? `${what} signature bundle ${row.signature.bundle} was not verified (folder not found on disk)` : `${what} is not signed`,
    row.kind === 'model'
      ? 'sign the model folder (aibom sign DIR or model_signing) and list the signer under publishers in the policy'
      : 'have the publisher sign the plugin folder (aibom sign DIR) and list them under publishers in the policy',
  );
}

/** Findings that are a gate rule of their own (the rule id is the finding code). */
const FINDING_RULES: Record<string, { rule: keyof Policy['rules']; fix: string }> = {
  'skill-script-download-exec': {
    rule: 'skill-script-download-exec',
    fix: 'ship what the script downloads inside the skill (hashed with it), or pin it by digest and check it before running it',
  },
  'hook-download-exec': {
    rule: 'hook-download-exec',
    fix: 'make the hook run a script shipped with the plugin or project (hashed in the BOM), not code downloaded when it runs',
  },
  'invisible-unicode': {
    rule: 'invisible-unicode',
    fix: 'remove the invisible characters (a reviewer does not see them, a model reads them), or add a policy exception naming this rule',
  },
};

/** Component kinds an agent reads or runs as its own: skills, their scripts, hooks, plugins' agent definitions. */
const AGENT_PART_KINDS = new Set(['skill', 'skill-script', 'hook', 'agent', 'command']);
const AGENT_PART_CODE = /^(?:skill|hook|agent|command)-/;

/**
 * Findings on what an agent reads as instructions or runs on its own (skills, skill scripts,
 * hooks, agent definitions): download-and-run code, hidden Unicode, and any other high or
 * critical finding there (`agent-part-risk`). Read from the component the finding names and
 * from the BOM's own findings.
 */
function checkAgentParts(inv: InventoryReport, on: RuleOn, failures: GateFailure[]): void {
  const seen = new Set<string>();
  const judge = (f: Finding, row: InventoryRow | undefined) => {
    const key = `${f.code}\u0000${f.component ?? ''}\u0000${f.message}`;
    if (seen.has(key)) return;
    seen.add(key);
    const own = FINDING_RULES[f.code];
    let rule: keyof Policy['rules'];
    let fix: string;
    if (own) {
      rule = own.rule;
      fix = own.fix;
    } else {
      const kind = row?.properties.get('aibom:kind')?.[0];
      const agentPart = (kind !== undefined && AGENT_PART_KINDS.has(kind)) || AGENT_PART_CODE.test(f.code);
      if (!agentPart || (f.severity !== 'high' && f.severity !== 'critical')) return;
      rule = 'agent-part-risk';
      fix = 'fix what the finding names, or add a policy exception naming this rule with a reason';
    }
    if (!on(rule)) return;
    const subject = row?.ref ?? f.component ?? f.location?.file ?? '(the BOM)';
    const g: GateFailure = { rule, subject, name: row ? label(row) : subject, message: `${f.code}: ${f.message}`, fix };
    const loc = f.location ?? row?.locations[0];
    if (loc) g.location = loc;
    failures.push(g);
  };
  for (const row of inv.rows) for (const f of row.risks) judge(f, row);
  const byRef = new Map(inv.rows.map((r) => [r.ref, r]));
  for (const f of inv.findings) judge(f, f.component ? byRef.get(f.component) : undefined);
}

function exceptionMatches(e: PolicyException, f: GateFailure, inv: InventoryReport): boolean {
  if (e.rules && !e.rules.includes(f.rule) && !e.rules.includes('*')) return false;
  if (e.component === f.subject) return true;
  const row = inv.rows.find((r) => r.ref === f.subject);
  if (row?.purl === e.component) return true;
  const names = row ? [row.name, row.version ? `${row.name}@${row.version}` : row.name] : [f.name];
  const isMatch = picomatch(e.component, { dot: true });
  return names.some((n) => isMatch(n));
}
