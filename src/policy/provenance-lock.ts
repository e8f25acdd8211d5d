/**
 * The provenance lock (`aibom gate --lock aibom.lock.json`): trust on first use, then refuse
 * drift. Per component that carries verified provenance (plugins and models whose signature
 * the gate verified, npm packages whose provenance `aibom build --provenance` verified, and
 * the BOM itself), the lock records who signed and the build claims
 * that should not change between releases (provenance.ts). On a later release, a component
 * whose signer, issuer, repository, workflow, ref pattern, trigger or runner changed, or
 * whose provenance disappeared, fails as `provenance-drift`, naming old and new;
 * `--accept-drift NAME` records the change deliberately. New components are added (trust on
 * first use) unless the lock is frozen (`--frozen-lock`, for CI: the lock must already say it).
 *
 * The lock is written (atomically, keys sorted, no timestamps: it is reviewed in pull requests
 * like a lockfile) only when the gate passes. Schema: schemas/aibom-lock.schema.json.
 */
import { AibomError } from '../errors.js';
import type { InventoryReport } from '../bom/rows.js';
import { pathKind, readTextBounded, writeFileAtomic } from '../util/fs.js';
import { isObject, parseJsonText } from '../util/json.js';
import type { GateContext, GateFailure, GateResult } from './evaluate.js';
import { PROVENANCE_FIELDS, type Provenance, provenanceChanges, refPattern, withoutRef } from './provenance.js';

export const LOCK_VERSION = 1;
const MAX_LOCK_BYTES = 16 * 1024 * 1024;
const MAX_LOCK_COMPONENTS = 100_000;
const MAX_FIELD = 4096;

export interface LockEntry extends Provenance {
  kind: string;
  /**
   * Where a plugin or model is installed (its BOM location). Names are what the component
   * says of itself; the location is what the agent loads, so a component renamed in place is
   * matched to its old entry by it (and its provenance compared), never silently replaced.
   */
  path?: string;
}

export interface ProvenanceLock {
  lockVersion: 1;
  components: Record<string, LockEntry>;
}

export interface LockOptions {
  file: string;
  /** Component keys (or names) whose drift is accepted. */
  acceptDrift?: string[];
  /** Never write; components missing from the lock fail too. */
  frozen?: boolean;
}

export interface LockOutcome {
  file: string;
  /** Whether the lock was written. */
  written: boolean;
  added: string[];
  accepted: string[];
  drifted: string[];
  /** Entries dropped because their component left the release. */
  removed: string[];
}

/** Read and check a lock file; undefined when it does not exist. */
export async function readLock(file: string): Promise<ProvenanceLock | undefined> {
  if ((await pathKind(file)) === 'missing') return undefined;
  const data = parseJsonText(await readTextBounded(file, MAX_LOCK_BYTES, file), file, 8);
  const bad = (msg: string): never => {
    throw new AibomError('INPUT', `not a provenance lock: ${msg}`, { file });
  };
  if (!isObject(data)) return bad('not a JSON object');
  for (const k of Object.keys(data)) if (k !== 'lockVersion' && k !== 'components') bad(`unknown key "${k}"`);
  if (data.lockVersion !== LOCK_VERSION) bad(`lockVersion must be ${LOCK_VERSION}`);
  if (!isObject(data.components)) return bad('"components" must be an object');
  const entries = Object.entries(data.components);
  if (entries.length > MAX_LOCK_COMPONENTS) throw new AibomError('TOO_LARGE', `over ${MAX_LOCK_COMPONENTS} components`, { file });
  const components: Record<string, LockEntry> = Object.create(null);
  for (const [key, v] of entries) {
    if (!isObject(v)) bad(`components.${key} must be an object`);
    const e = v as Record<string, unknown>;
    for (const k of Object.keys(e)) {
      if (k !== 'kind' && k !== 'path' && !(PROVENANCE_FIELDS as readonly string[]).includes(k)) bad(`components.${key}: unknown key "${k}"`);
      if (typeof e[k] !== 'string' || (e[k] as string).length === 0 || (e[k] as string).length > MAX_FIELD) bad(`components.${key}.${k} must be a non-empty string`);
    }
    if (typeof e.kind !== 'string' || typeof e.signer !== 'string') bad(`components.${key} needs "kind" and "signer"`);
    if (!['plugin', 'model', 'package', 'bom'].includes(e.kind as string) || !/^(bom|plugin:.+|model:.+|package:.+)$/s.test(key)) {
      bad(`components.${key}: not a plugin:, model:, package: or bom entry`);
    }
    components[key] = e as unknown as LockEntry;
  }
  return { lockVersion: LOCK_VERSION, components };
}

export function serializeLock(lock: ProvenanceLock): string {
  const sorted: Record<string, LockEntry> = {};
  for (const key of Object.keys(lock.components).sort()) {
    const e = lock.components[key]!;
    const out: Record<string, string> = { kind: e.kind };
    for (const f of PROVENANCE_FIELDS) if (e[f] !== undefined) out[f] = e[f];
    if (e.path !== undefined) out.path = e.path;
    sorted[key] = out as unknown as LockEntry;
  }
  return `${JSON.stringify({ lockVersion: LOCK_VERSION, components: sorted }, null, 2)}\n`;
}

/** What this release shows: lock key → provenance (verified signatures only), plus every component key that could carry one. */
const describe = (e: LockEntry) => `${e.signer}${e.repository ? ` from ${e.repository}` : ''}${e.refPattern ? ` (${e.refPattern})` : ''}`;

export interface Observed {
  observed: Map<string, LockEntry>;
  present: Set<string>;
  paths: Map<string, string>;
  /** Plugin and model keys that several components share with different provenance: never one lock entry. */
  ambiguous: Map<string, string>;
  /** Further copies of an npm package name whose provenance differs from the first: each is compared with the lock too. */
  others: Map<string, Array<LockEntry | undefined>>;
}

export function observedProvenance(inv: InventoryReport, ctx: GateContext): Observed {
  const observed = new Map<string, LockEntry>();
  const present = new Set<string>();
  const paths = new Map<string, string>();
  const ambiguous = new Map<string, string>();
  const others = new Map<string, Array<LockEntry | undefined>>();
  // Every component with a key is observed; a second one under the same key (two plugins that
  // call themselves the same, two copies of an npm name) must say the same, or the key is ambiguous.
  const seen = new Map<string, { entry: LockEntry | undefined; where: string }>();
  const observe = (key: string, entry: LockEntry | undefined, where: string) => {
    const first = seen.get(key);
    if (!first) {
      seen.set(key, { entry, where });
      present.add(key);
      if (entry) observed.set(key, entry);
      return;
    }
    const same = first.entry && entry ? provenanceChanges(first.entry, entry).length === 0 : first.entry === entry;
    if (same) return;
    if (key.startsWith('package:')) {
      // A registry name: several versions may be installed; each must match the lock.
      others.set(key, [...(others.get(key) ?? []), entry]);
      return;
    }
    if (!ambiguous.has(key)) {
      const say = (e: LockEntry | undefined) => (e ? `signed by ${describe(e)}` : 'with no verified signature');
      ambiguous.set(key, `two components are both ${key}: ${first.where} ${say(first.entry)}, ${where} ${say(entry)}`);
    }
  };
  for (const row of inv.rows) {
    if (row.kind !== 'plugin' && row.kind !== 'model') continue;
    const key = `${row.kind}:${row.name}`;
    const path = row.properties.get('aibom:install-path')?.[0] ?? row.locations.find((l) => l.file)?.file;
    if (path && !paths.has(key)) paths.set(key, path);
    const check = ctx.signatures?.get(row.ref);
    observe(key, check?.verified && check.provenance ? { kind: row.kind, ...check.provenance, ...(path ? { path } : {}) } : undefined, path ?? row.ref);
  }
  // npm packages whose provenance `aibom build --provenance` checked (aibom:npm:provenance:*).
  for (const row of inv.rows) {
    if (row.kind !== 'package') continue;
    const prop = (k: string) => row.properties.get(`aibom:npm:provenance${k}`)?.[0];
    const status = prop('');
    // Every installed npm copy counts, asked about or not (no sha512 integrity, a git source, a
    // BOM built without --provenance): one that carries no verified provenance is a copy without it.
    if (status === undefined && !row.purl?.startsWith('pkg:npm/')) continue;
    const key = `package:${row.name}`;
    const signer = prop(':signer');
    const where = `${row.name}@${row.version ?? ''}`;
    if (status !== 'verified' || !signer) {
      observe(key, undefined, where);
      continue;
    }
    const e: LockEntry = { kind: 'package', signer: withoutRef(signer) };
    const issuer = prop(':issuer');
    if (issuer) e.issuer = issuer;
    const repository = prop(':repository');
    if (repository) e.repository = repository;
    const workflow = prop(':workflow');
    if (workflow) e.workflow = withoutRef(workflow);
    const ref = prop(':ref');
    if (ref) e.refPattern = refPattern(ref);
    const trigger = prop(':trigger');
    if (trigger) e.trigger = trigger;
    const runner = prop(':runner');
    if (runner) e.runner = runner;
    observe(key, e, where);
  }
  if (ctx.bomSignature) {
    present.add('bom');
    if (ctx.bomSignature.verified && ctx.bomSignature.provenance) observed.set('bom', { kind: 'bom', ...ctx.bomSignature.provenance });
  }
  return { observed, present, paths, ambiguous, others };
}

/**
 * Components renamed in place: a present key the lock does not have, at the path of a lock
 * entry of the same kind whose key is gone from the release. Returns new key → old key.
 */
function renamedInPlace(lock: ProvenanceLock, present: Set<string>, paths: Map<string, string>): Map<string, string> {
  const byPath = new Map<string, string>();
  for (const [key, e] of Object.entries(lock.components)) if (e.path !== undefined && !present.has(key)) byPath.set(`${e.kind}\0${e.path}`, key);
  const out = new Map<string, string>();
  for (const key of present) {
    const path = paths.get(key);
    if (lock.components[key] || path === undefined) continue;
    const old = byPath.get(`${key.slice(0, key.indexOf(':'))}\0${path}`);
    if (old !== undefined && ![...out.values()].includes(old)) out.set(key, old);
  }
  return out;
}


/**
 * Compare this release with the lock: drift becomes `provenance-drift` failures on the result;
 * the lock is updated (written when the gate still passes and it is not frozen).
 */
export async function applyLock(result: GateResult, inv: InventoryReport, ctx: GateContext, o: LockOptions): Promise<LockOutcome> {
  const previous = await readLock(o.file);
  const lock: ProvenanceLock = { lockVersion: LOCK_VERSION, components: { ...(previous?.components ?? {}) } };
  const { observed, present, paths, ambiguous, others } = observedProvenance(inv, ctx);
  const renamed = renamedInPlace(lock, present, paths);
  const accept = new Set(o.acceptDrift ?? []);
  const acceptedKey = (key: string) => accept.has(key) || accept.has(key.replace(/^(plugin|model|package):/, ''));
  const outcome: LockOutcome = { file: o.file, written: false, added: [], accepted: [], drifted: [], removed: [] };
  for (const a of accept) {
    const matching = new Set([...present, ...Object.keys(lock.components)].filter((k) => k === a || k.replace(/^(plugin|model|package):/, '') === a));
    if (!matching.size) throw new AibomError('USAGE', `--accept-drift ${a}: no such component in the BOM or the lock`);
    // A bare name accepts one component's drift, never several kinds' at once.
    if (!matching.has(a) && matching.size > 1) throw new AibomError('USAGE', `--accept-drift ${a}: several components are called that (${[...matching].sort().join(', ')}); give the one you mean`);
  }
  const failures: GateFailure[] = [];
  const drift = (key: string, message: string, fix: string) => {
    outcome.drifted.push(key);
    failures.push({ rule: 'provenance-drift', subject: key, name: key, message, fix });
  };
  for (const key of [...new Set([...present, ...Object.keys(lock.components)])].sort()) {
    const was = renamed.get(key);
    if (was !== undefined) {
      // Renamed in place: the old entry answers for it (and goes, whatever the outcome).
      lock.components[key] = lock.components[was]!;
      delete lock.components[was];
    } else if ([...renamed.values()].includes(key)) continue;
    const clash = ambiguous.get(key);
    if (clash) {
      // Whatever the lock says, one entry cannot stand for components that disagree.
      drift(key, clash, 'give each component its own name (or remove the one you did not mean to ship); --accept-drift does not apply');
      continue;
    }
    const old = lock.components[key];
    const now = observed.get(key);
    const renamedNote = was !== undefined ? `renamed in place from ${was} (${old?.path}); ` : '';
    const against = old ?? now;
    const odd = against && !acceptedKey(key) ? others.get(key)?.find((e) => !e || provenanceChanges(against, e).length > 0) : undefined;
    if (against && others.has(key) && !acceptedKey(key) && (odd !== undefined || others.get(key)!.includes(undefined))) {
      drift(
        key,
        `another installed copy of ${key} ${odd ? `is signed by ${describe(odd)}` : 'has no verified signature'}, where ${old ? 'the lock has' : 'the first copy is'} ${describe(against)}`,
        `every copy must come from the same signer; if that is intended, --accept-drift ${key}`,
      );
      continue;
    }
    if (!old) {
      if (!now) continue;
      if (o.frozen && !acceptedKey(key)) {
        drift(key, `not in the provenance lock ${o.file}: signed by ${describe(now)}`, `review it, then run the gate without --frozen-lock (or with --accept-drift ${key}) to record it`);
        continue;
      }
      lock.components[key] = now;
      outcome.added.push(key);
      continue;
    }
    if (!present.has(key)) {
      // The component is gone from the release: nothing to drift; its entry goes (and is reported).
      delete lock.components[key];
      outcome.removed.push(key);
      continue;
    }
    if (!now) {
      if (acceptedKey(key)) {
        delete lock.components[key];
        outcome.accepted.push(key);
      } else {
        drift(key, `${renamedNote}its provenance disappeared: the lock has it signed by ${describe(old)}, this release has no verified signature for it`, `restore its signature, or --accept-drift ${key} to drop it from the lock`);
      }
      continue;
    }
    const changes = provenanceChanges(old, { ...now });
    if (!changes.length) {
      lock.components[key] = now;
      continue;
    }
    if (acceptedKey(key)) {
      lock.components[key] = now;
      outcome.accepted.push(key);
    } else {
      drift(key, `${renamedNote}provenance changed since the lock: ${changes.join('; ')}`, `if the change is intended, --accept-drift ${key} records it in ${o.file}`);
    }
  }
  result.failures.push(...failures);
  if (failures.length) result.passed = false;
  if (result.passed && !o.frozen) {
    const text = serializeLock(lock);
    const before = previous ? serializeLock(previous) : undefined;
    if (text !== before) {
      await writeFileAtomic(o.file, text);
      outcome.written = true;
    }
  }
  return outcome;
}
