/**
 * Writing the lock at build time (`aibom build --publisher-key PEM... --policy P`):
 *  - each plugin's own signature bundle is verified against the given publishers (public keys,
 *    and the policy's publishers whose `match` fits the plugin), with the same code the start-up
 *    check uses, and the publisher whose signature verifies is pinned in the BOM:
 *      key:     aibom:publisher:key-fingerprint (sha256 of the DER SPKI) + aibom:publisher:key (base64 DER SPKI)
 *      keyless: aibom:publisher:identity + aibom:publisher:issuer (the certificate's, exactly)
 *    plus aibom:publisher:bundle (which bundle verified). A plugin whose bundle verifies against
 *    none of them is a finding, and is not pinned.
 *  - the plugin folders (configured, and the folder holding each discovered plugin package)
 *    are recorded on the root component (aibom:plugin-path), so the start-up check knows where
 *    an unlisted plugin would be.
 * Not imported by `aibom/runtime`.
 */
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import type { Dirent } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type { AibomConfig } from '../inventory/config.js';
import { DEFAULT_PLUGIN_PATHS, normalizeConfigPath } from '../inventory/config.js';
import type { Component, Finding, Inventory } from '../inventory/types.js';
import { NS, prop } from '../inventory/types.js';
import type { Policy, PublisherPolicy } from '../policy/types.js';
import { AibomError } from '../errors.js';
import { readTextBounded } from '../util/fs.js';
import type { TrustContext } from '../verification/verify.js';
import { pluginFolderDigest, readSmallFileSync } from '../runtime/folder.js';
import { isResolutionEntry, MAX_PLUGIN_PATH_FILE_BYTES, safeRelative } from '../runtime/lock.js';
import type { PluginReason } from '../runtime/types.js';

export interface PinOptions {
  /** Absolute root that was scanned. */
  root: string;
  /** PEM public keys of trusted publishers (any plugin may be signed by any of them). */
  publisherKeys?: string[];
  policy?: Policy;
  trustedRoot?: string;
  env?: NodeJS.ProcessEnv;
}

/**
 * Record every plugin folder on the BOM's root component, present or not (a folder that
 * appears there later is then refused as unlisted): the configured ones, and the folder that
 * holds each discovered plugin package, wherever it is (an Agent Plugins or Claude Code package
 * found at `vendor/x` makes `vendor` a plugin folder; one at the agent root makes the root one).
 * Pin what Node could load around the plugins: every file directly in a plugin folder
 * (`aibom:plugin-path-file`, `path sha256:<hex>`; at the agent root, the agent's own files), and
 * in each folder between a plugin folder and the agent root the entries module resolution
 * consults (package.json, index.*). Anything else found there at start-up is refused: at the
 * agent root too, so plugin packages belong in a dedicated folder.
 */
export async function recordPluginPaths(inv: Inventory, root: string, config: AibomConfig | undefined): Promise<void> {
  const configured = (config?.plugins?.paths ?? DEFAULT_PLUGIN_PATHS).map(normalizeConfigPath);
  const paths = [...new Set([...configured, ...pluginParents(inv)])].filter((p) => safeRelative(p) !== undefined).sort();
  const files = new Map<string, string>();
  const between = new Set<string>();
  for (const p of paths) {
    inv.root.properties.push(prop(`${NS}plugin-path`, p));
    const parts = p ? p.split('/') : [];
    for (let i = 1; i < parts.length; i++) between.add(parts.slice(0, i).join('/'));
    for (const e of await entries(root, p)) {
      const rel = p ? `${p}/${e.name}` : e.name;
      if (e.isFile()) files.set(rel, await fileDigest(root, rel));
    }
  }
  for (const b of between) {
    if (paths.includes(b)) continue;
    for (const e of await entries(root, b)) {
      if (e.isFile() && isResolutionEntry(e.name)) files.set(`${b}/${e.name}`, await fileDigest(root, `${b}/${e.name}`));
    }
  }
  for (const [rel, hex] of [...files].sort((a, b) => (a[0] < b[0] ? -1 : 1))) inv.root.properties.push(prop(`${NS}plugin-path-file`, `${rel} sha256:${hex}`));
}

/** The folder holding each discovered plugin package ('' for one at the agent root). */
function pluginParents(inv: Inventory): string[] {
  const out: string[] = [];
  for (const c of inv.components) {
    if (!c.properties.some((p) => p.name === `${NS}kind` && p.value === 'plugin')) continue;
    const rel = values(c, `${NS}install-path`)[0];
    if (rel === undefined || !safeRelative(rel)) continue; // none, outside the root, or the root itself
    out.push(rel.includes('/') ? rel.slice(0, rel.lastIndexOf('/')) : '');
  }
  return out;
}

async function entries(root: string, rel: string): Promise<Dirent[]> {
  const abs = join(root, ...rel.split('/'));
  const st = await lstat(abs).catch(() => undefined);
  if (!st?.isDirectory()) return [];
  return readdir(abs, { withFileTypes: true });
}

async function fileDigest(root: string, rel: string): Promise<string> {
  const bytes = readSmallFileSync(join(root, ...rel.split('/')), MAX_PLUGIN_PATH_FILE_BYTES, rel);
  return createHash('sha256').update(bytes).digest('hex');
}

interface Candidate {
  label: string;
  publisher: PublisherPolicy;
  /** Only for plugins whose name (or ref) fits `match`; keys from --publisher-key fit every plugin. */
  any: boolean;
}

/** Verify plugin bundles against the publishers and pin the one that verifies. Returns the findings. */
export async function pinPublishers(inv: Inventory, opts: PinOptions): Promise<Finding[]> {
  // Sigstore verification loads only here: every `aibom build` records plugin paths, few pin.
  const { loadTrustedRoot } = await import('../verification/trusted-root.js');
  const { makeTrustContext } = await import('../verification/verify.js');
  const { checkPublisherBundle, expectedPublisher, keyFingerprint, keyPin } = await import('../runtime/publisher.js');
  const candidates: Candidate[] = [];
  for (const file of opts.publisherKeys ?? []) {
    const pem = await readTextBounded(file, 1024 * 1024, file);
    let key: KeyObject;
    try {
      key = createPublicKey(pem);
    } catch {
      throw new AibomError('INPUT', 'not a PEM public key', { file });
    }
    if (/PRIVATE KEY/.test(pem)) throw new AibomError('INPUT', 'this is a private key; --publisher-key takes the publisher\'s public key', { file });
    candidates.push({ label: `key ${keyFingerprint(key)} (${file})`, publisher: { match: '*', keyPem: pem, keyPath: file }, any: true });
  }
  for (const p of opts.policy?.publishers ?? []) {
    candidates.push({ label: `policy publisher "${p.match}"`, publisher: p, any: false });
  }
  const plugins = inv.components.filter((c) => c.properties.some((p) => p.name === `${NS}kind` && p.value === 'plugin'));
  if (candidates.length === 0 || plugins.length === 0) return [];
  const isMatch = await globMatcher();
  let trust: TrustContext | undefined;
  const findings: Finding[] = [];
  for (const c of plugins) {
    const bundles = values(c, `${NS}signature-bundle`);
    if (bundles.length === 0) continue;
    const name = c.group ? `${c.group}/${c.name}` : c.name;
    const fitting = candidates.filter((k) => k.any || k.publisher.match === c.ref || isMatch(k.publisher.match, name));
    if (fitting.length === 0) continue;
    const dirRel = values(c, `${NS}install-path`)[0];
    if (dirRel === undefined) continue;
    const dirAbs = join(opts.root, ...dirRel.split('/'));
    const symlinks = new Map<string, string>();
    for (const s of values(c, `${NS}symlink`)) {
      const i = s.indexOf(' -> ');
      if (i > 0) symlinks.set(s.slice(0, i), s.slice(i + 4));
    }
    const folder = await pluginFolderDigest(dirAbs, { signatureFiles: bundles.map((b) => posix.relative(dirRel, b)), symlinks });
    const problems: string[] = [];
    if (folder.problems.length) {
      problems.push(...folder.problems.map((p) => p.message));
    } else {
      trust ??= makeTrustContext(await loadTrustedRoot(opts.trustedRoot, opts.env ?? process.env));
      let pinned = false;
      for (const b of bundles) {
        for (const k of fitting) {
          const expected = expectedPublisher(undefined, k.publisher, k.any ? '--publisher-key' : (opts.policy?.source ?? 'the policy'));
          if (!expected) continue;
          if ('code' in expected) {
            problems.push(`${k.label}: ${(expected as PluginReason).message}`);
            continue;
          }
          const check = checkPublisherBundle(trust, join(opts.root, ...b.split('/')), b, posix.basename(dirRel), folder.resources, expected);
          if (check.problem || !check.signer) {
            problems.push(`${k.label}: ${check.problem?.message ?? 'not verified'}`);
            continue;
          }
          if (check.signer.method === 'key') {
            c.properties.push(
              prop(`${NS}publisher:key-fingerprint`, check.signer.keyFingerprint!),
              prop(`${NS}publisher:key`, keyPin((expected.policy as { key: KeyObject }).key)),
            );
          } else {
            if (!check.signer.identity || !check.signer.issuer) {
              problems.push(`${k.label}: the signing certificate names no identity or no OIDC issuer to pin`);
              continue;
            }
            c.properties.push(prop(`${NS}publisher:identity`, check.signer.identity), prop(`${NS}publisher:issuer`, check.signer.issuer));
          }
          c.properties.push(prop(`${NS}publisher:bundle`, b));
          pinned = true;
          break;
        }
        if (pinned) break;
      }
      if (pinned) continue;
    }
    findings.push(unverified(c, name, problems));
  }
  inv.findings.push(...findings);
  return findings;
}

function unverified(c: Component, name: string, problems: string[]): Finding {
  const f: Finding = {
    code: 'plugin-publisher-unverified',
    severity: 'high',
    message: `plugin ${name}: its signature does not verify against any given publisher, so no publisher is pinned: ${problems.slice(0, 3).join('; ')}${problems.length > 3 ? ` (and ${problems.length - 3} more)` : ''}`,
    component: c.ref,
  };
  const loc = c.locations[0];
  if (loc) f.location = loc;
  return f;
}

function values(c: Component, name: string): string[] {
  return c.properties.filter((p) => p.name === name).map((p) => p.value);
}

async function globMatcher(): Promise<(glob: string, s: string) => boolean> {
  const { default: picomatch } = await import('picomatch');
  return (glob, s) => picomatch(glob, { dot: true })(s);
}
