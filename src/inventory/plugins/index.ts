import { readdir } from 'node:fs/promises';
import { join, posix } from 'node:path';
import picomatch from 'picomatch';
import { isAibomError } from '../../errors.js';
import { configLocation, DEFAULT_PLUGIN_PATHS, normalizeConfigPath } from '../config.js';
import { filesDigest } from '../../digest/files-digest.js';
import { folderManifest, type ResourceDigest } from '../../digest/digest.js';
import type { DiscoverContext, DiscoverResult, Discoverer } from '../discoverer.js';
import { npmPurl, pypiPurl } from '../purl.js';
import { findFolderSymlinks, type FolderSymlink } from '../symlinks.js';
import type { Component, Finding, Property, Service } from '../types.js';
import { NS, prop } from '../types.js';
import { type PluginManifest, type PluginManifests, readPluginManifests } from './manifest.js';
import { isAgentPluginsDoc } from '../agent-plugins/manifest.js';
import { describePluginParts, type Parts, type PluginUnit } from '../agent-plugins/parts.js';
import { SIGNATURE_DIR } from '../agent-plugins/signature.js';
import { readTextBounded } from '../../util/fs.js';

/**
 * Agent plugins: every subfolder of the plugin folders (default `plugins/`, or
 * `plugins.paths` in aibom.config.*) is one plugin. Each becomes a component with the name and
 * version its manifest gives, a purl when it is an npm or PyPI package, and the folder digest
 * computed as OpenSSF model_signing computes its manifest, so the start-up check and a
 * publisher's model_signing signature can both be compared against it.
 *
 * Component type: `library`. A plugin is code the agent loads (or launches) to extend itself;
 * it is not a standalone application a user runs, and CycloneDX has no plugin type. `library`
 * is also what SBOM tools use for extensions and add-ons, so policy tools that reason about
 * "code the application depends on" treat plugins correctly. The `aibom:kind` property says
 * `plugin` for tools that need to tell them apart.
 */

/** Signature files left out of the digest (they cannot be part of what they sign). */
export function isSignatureFile(name: string): boolean {
  return name === 'model.sig' || name.endsWith('.sigstore.json');
}

export const pluginsDiscoverer: Discoverer = {
  name: 'plugins',
  discover: discoverPlugins,
};

/** The plugin folders found, and the plugin entries that are symbolic links (path → link text). */
interface PluginFolders {
  folders: string[];
  /**
   * Plugin entries that are symbolic links (or a plugin path that is one): each is a plugin the
   * gate fails (aibom:plugin:entry-symlink), whether the walk followed it or not.
   */
  linkedEntries: Map<string, string>;
}

async function discoverPlugins(ctx: DiscoverContext): Promise<DiscoverResult> {
  const config = ctx.options.config;
  const excluded = config?.plugins?.exclude?.length ? picomatch(config.plugins.exclude, { dot: true }) : () => false;
  const isExcluded = (rel: string) => excluded(rel) || excluded(`${rel}/`);
  const findings: Finding[] = [];
  const components: Component[] = [];
  const services: Service[] = [];
  const dependencies = new Map<string, Set<string>>();
  const pluginRefs: string[] = [];
  const { folders, linkedEntries } = findPluginFolders(ctx, findings);
  // Agent Plugins packages (a plugin.json with an agent-plugins.org $schema) and Claude Code
  // plugins (.claude-plugin/plugin.json) wherever they are, not only under the plugin folders.
  for (const dir of await packageFolders(ctx)) {
    if (!folders.includes(dir) && !folders.some((f) => dir.startsWith(`${f}/`))) folders.push(dir);
  }
  folders.sort();

  let done = 0;
  for (const rel of folders) {
    if (isExcluded(rel)) continue;
    ctx.options.onProgress?.({ phase: 'plugins', done: done++, total: folders.length });
    const { component, findings: fs, parts } = await describePlugin(ctx, rel);
    const target = linkedEntries.get(rel);
    if (target !== undefined) {
      component.properties.push(prop(`${NS}plugin:entry-symlink`, target));
      linkedEntries.delete(rel);
    }
    components.push(component);
    findings.push(...fs);
    pluginRefs.push(component.ref);
    if (parts) {
      components.push(...parts.components);
      services.push(...parts.services);
      findings.push(...parts.findings);
      for (const [from, tos] of parts.dependencies) dependencies.set(from, tos);
      for (const f of parts.claimed) ctx.claimed?.add(f);
    }
  }
  // A linked entry not described above (not walked into): a plugin component of its own, which the gate fails.
  for (const [rel, target] of linkedEntries) {
    if (isExcluded(rel)) continue;
    components.push({
      ref: `plugin:${rel}`,
      type: 'library',
      name: posix.basename(rel),
      hashes: [],
      properties: [prop(`${NS}kind`, 'plugin'), prop(`${NS}install-path`, rel), prop(`${NS}plugin:entry-symlink`, target)],
      locations: [{ file: rel }],
    });
    pluginRefs.push(`plugin:${rel}`);
  }
  return { components, services, findings, dependencies, rootDependencies: pluginRefs };
}

/** Every child folder of the plugin paths (configured, or the defaults), links recorded and never followed. */
function findPluginFolders(ctx: DiscoverContext, findings: Finding[]): PluginFolders {
  const config = ctx.options.config;
  const configured = config?.plugins?.paths;
  const bases = (configured ?? DEFAULT_PLUGIN_PATHS).map(normalizeConfigPath);
  const dirs = new Set(ctx.walked.dirs);
  const folders: string[] = [];
  const linkedEntries = new Map<string, string>();
  bases.forEach((base, i) => {
    const link = ctx.walked.symlinks.find((s) => s.rel === base);
    if (link) {
      findings.push({
        code: 'plugin-symlink',
        severity: 'high',
        message: `plugin folder ${base} is a symbolic link to ${link.target}; not followed`,
        location: { file: base },
      });
      linkedEntries.set(base, link.target);
      if (!dirs.has(base)) return;
    }
    if (!dirs.has(base)) {
      if (configured) {
        const f: Finding = { code: 'plugin-path-missing', severity: 'low', message: `plugin folder ${base || '.'} not found` };
        const loc = configLocation(config, `/plugins/paths/${i}`);
        if (loc) f.location = loc;
        findings.push(f);
      }
      return;
    }
    for (const d of ctx.walked.dirs) {
      if (d && parentOf(d) === base && !folders.includes(d)) folders.push(d);
    }
    // A plugin folder that is itself a link was not walked into: record it, do not follow it.
    for (const s of ctx.walked.symlinks) {
      if (parentOf(s.rel) !== base) continue;
      linkedEntries.set(s.rel, s.target);
      if (dirs.has(s.rel)) continue;
      findings.push({
        code: 'plugin-symlink',
        severity: s.outside ? 'high' : 'medium',
        message: `plugin folder ${s.rel} is a symbolic link to ${s.target}${s.outside ? ' (outside the scanned folder)' : ''}; not followed`,
        location: { file: s.rel },
      });
    }
  });
  return { folders, linkedEntries };
}

const MAX_SNIFF_MANIFEST_BYTES = 1024 * 1024;

/** Folders holding an Agent Plugins plugin.json or a .claude-plugin/plugin.json, anywhere in the walk. */
async function packageFolders(ctx: DiscoverContext): Promise<string[]> {
  const out: string[] = [];
  // The folder of a manifest: '' when the scanned root is itself the plugin.
  const folderOf = (rel: string, manifest: string) => (rel === manifest ? '' : rel.slice(0, -(manifest.length + 1)));
  for (const f of ctx.walked.files) {
    if (f.rel === '.claude-plugin/plugin.json' || f.rel.endsWith('/.claude-plugin/plugin.json')) {
      out.push(folderOf(f.rel, '.claude-plugin/plugin.json'));
      continue;
    }
    if ((f.rel !== 'plugin.json' && !f.rel.endsWith('/plugin.json')) || f.size > MAX_SNIFF_MANIFEST_BYTES) continue;
    let text: string;
    try {
      text = await readTextBounded(f.abs, MAX_SNIFF_MANIFEST_BYTES, f.rel);
    } catch {
      continue;
    }
    // Parsed, never matched as text: a `$schema` written with JSON escapes ("https:\/\/…",
    // "\u0061gent-plugins") is the same URL to every client.
    try {
      if (isAgentPluginsDoc(JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text))) out.push(folderOf(f.rel, 'plugin.json'));
    } catch {
      // not JSON: read (and reported) only when it sits in a plugin folder
    }
  }
  return out;
}

function parentOf(rel: string): string {
  const i = rel.lastIndexOf('/');
  return i < 0 ? '' : rel.slice(0, i);
}

/** What the Agent Plugins 1.0 check of a plugin's `plugin.json` said (when it has one). */
type AgentPluginsCheck = NonNullable<PluginManifest['agentPlugins']>;

/** One plugin being described: where it is, and the component, findings and properties built so far. */
interface PluginDraft {
  ctx: DiscoverContext;
  rel: string;
  abs: string;
  ref: string;
  component: Component;
  /** The component's properties, in the order they are written. */
  properties: Property[];
  findings: Finding[];
}

async function describePlugin(ctx: DiscoverContext, rel: string): Promise<{ component: Component; findings: Finding[]; parts?: Parts }> {
  const abs = join(ctx.root, ...rel.split('/'));
  const ref = `plugin:${rel}`;
  const manifests: PluginManifests = await readPluginManifests(abs, rel);
  const primary = manifests.primary;
  const agent = manifests.all.find((m) => m.format === 'agent-plugins')?.agentPlugins;
  const properties: Property[] = [prop(`${NS}kind`, 'plugin'), prop(`${NS}install-path`, rel)];
  const component: Component = {
    ref,
    type: 'library',
    name: primary?.name ?? posix.basename(rel),
    hashes: [],
    properties,
    locations: [{ file: primary ? `${rel}/${primary.file}` : rel }],
  };
  const d: PluginDraft = { ctx, rel, abs, ref, component, properties, findings: manifestFindings(manifests, agent, rel, ref) };
  identify(d, primary, manifests.all);
  // Symlinks are recorded, never followed; the digest covers the regular files only.
  const links = await recordSymlinks(d);
  const signatures = await signatureFiles(abs);
  for (const s of signatures) properties.push(prop(`${NS}signature-bundle`, `${rel}/${s}`));
  const resources = await digestFolder(d, [...signatures, ...links.map((l) => l.rel)]);
  const pinned = recordPinning(d, primary, resources !== undefined);
  if (agent) recordAgentPlugins(properties, agent);
  const unit: PluginUnit = { root: ctx.root, rel, abs, ref, name: component.name, pinned, resources, walked: ctx.walked };
  if (agent) unit.agentPlugins = { ...(agent.schema ? { schema: agent.schema } : {}), loadable: agent.errors.length === 0, extensions: agent.manifest?.extensions ?? [] };
  const parts = await describePluginParts(unit);
  return { component, findings: d.findings, parts };
}

/** Manifests that could not be read, and what the Agent Plugins 1.0 check of plugin.json found. */
function manifestFindings(manifests: PluginManifests, agent: AgentPluginsCheck | undefined, rel: string, ref: string): Finding[] {
  const findings: Finding[] = [];
  for (const p of manifests.problems) {
    findings.push({
      code: 'plugin-manifest-invalid',
      severity: 'medium',
      message: `cannot read plugin manifest: ${p.message}`,
      component: ref,
      location: { file: `${rel}/${p.file}` },
    });
  }
  if (!agent) return findings;
  for (const w of agent.warnings)
    findings.push({
      code: 'agent-plugin-manifest-warning',
      severity: 'low',
      message: `${rel}/plugin.json: ${w}`,
      component: ref,
      location: { file: `${rel}/plugin.json` },
    });
  if (agent.errors.length)
    findings.push({
      code: 'agent-plugin-manifest-invalid',
      severity: 'high',
      message: `${rel}/plugin.json does not conform to Agent Plugins 1.0: ${agent.errors.join('; ')}; a conformant client rejects the plugin and loads none of its components (they are listed here all the same)`,
      component: ref,
      location: agent.line !== undefined ? { file: `${rel}/plugin.json`, line: agent.line } : { file: `${rel}/plugin.json` },
    });
  return findings;
}

/** Name, version and purl from the primary manifest; a finding when there is none, or no usable version. */
function identify(d: PluginDraft, primary: PluginManifest | undefined, all: PluginManifest[]): void {
  const { component, properties, findings, rel, ref } = d;
  if (primary) {
    applyManifest(component, primary, all);
    for (const pkg of all) {
      if (pkg === primary || (pkg.format !== 'npm' && pkg.format !== 'python') || !pkg.version || !primary.version) continue;
      if (pkg.version === primary.version) continue;
      findings.push({
        code: 'plugin-version-mismatch',
        severity: 'medium',
        message: `plugin ${component.name}: ${rel}/${primary.file} says version ${primary.version.slice(0, 100)}, ${rel}/${pkg.file} says ${pkg.version.slice(0, 100)}; the plugin's version is ${primary.version.slice(0, 100)} (from ${primary.file}) and it gets no package identity (purl) from ${pkg.file}`,
        component: ref,
        location: { file: `${rel}/${pkg.file}` },
      });
    }
    properties.push(prop(`${NS}plugin:format`, primary.format), prop(`${NS}plugin:manifest`, `${rel}/${primary.file}`));
    if (primary.server?.type) properties.push(prop(`${NS}mcpb:server-type`, primary.server.type));
    if (primary.server?.entryPoint) properties.push(prop(`${NS}mcpb:entry-point`, primary.server.entryPoint));
    if (primary.manifestVersion) properties.push(prop(`${NS}mcpb:manifest-version`, primary.manifestVersion));
  } else {
    findings.push({
      code: 'plugin-no-manifest',
      severity: 'medium',
      message: `plugin folder ${rel} has no manifest giving its name and version (package.json, agent-plugin.yaml, .claude-plugin/plugin.json or an MCP bundle manifest.json)`,
      component: ref,
      location: { file: rel },
    });
  }
  if (primary && !component.version) {
    findings.push({
      code: 'plugin-no-version',
      severity: 'medium',
      message:
        primary.version !== undefined
          ? `plugin ${component.name}: the version in ${rel}/${primary.file} is longer than ${MAX_VERSION_LENGTH} characters; left out`
          : `plugin ${component.name} has no version in ${rel}/${primary.file}`,
      component: ref,
      location: { file: `${rel}/${primary.file}` },
    });
  }
}

/** Every symbolic link in the plugin folder: a property and a finding saying where it leads. */
async function recordSymlinks(d: PluginDraft): Promise<FolderSymlink[]> {
  let links: FolderSymlink[] = [];
  try {
    links = (await findFolderSymlinks(d.abs, d.ctx.root)).links;
  } catch (err) {
    d.findings.push(digestFailure(d.ref, d.rel, err));
  }
  for (const l of links) {
    d.properties.push(prop(`${NS}symlink`, `${l.rel} -> ${l.target}`));
    const severity = l.resolves === 'outside-root' ? 'high' : l.resolves === 'inside-folder' ? 'low' : 'medium';
    const where =
      l.resolves === 'outside-root'
        ? 'outside the scanned folder'
        : l.resolves === 'inside-root'
          ? 'outside the plugin folder'
          : l.resolves === 'broken'
            ? 'nowhere (broken)'
            : 'inside the plugin folder';
    d.findings.push({
      code: 'plugin-symlink',
      severity,
      message: `symbolic link in plugin ${d.component.name}: ${l.rel} -> ${l.target} leads ${where}; not followed and not in the folder digest`,
      component: d.ref,
      location: { file: `${d.rel}/${l.rel}` },
    });
  }
  return links;
}

/** The folder digest (model_signing's manifest) and its properties; undefined (and a finding) when it cannot be computed. */
async function digestFolder(d: PluginDraft, ignorePaths: string[]): Promise<ResourceDigest[] | undefined> {
  try {
    const manifest = await folderManifest(d.abs, { ignorePaths, maxFiles: 200_000 });
    d.component.hashes.push({ alg: 'SHA-256', content: manifest.digest });
    d.properties.push(
      prop(`${NS}folder-digest`, `sha256:${manifest.digest}`),
      prop(`${NS}files-digest`, `sha256:${filesDigest(manifest.resources)}`),
      prop(`${NS}file-count`, manifest.resources.length),
      prop(`${NS}size`, manifest.totalBytes),
    );
    return manifest.resources;
  } catch (err) {
    d.findings.push(digestFailure(d.ref, d.rel, err));
    return undefined;
  }
}

/** Pinned = a manifest with a version and a folder digest; the reasons when not. */
function recordPinning(d: PluginDraft, primary: PluginManifest | undefined, digested: boolean): boolean {
  const reasons: string[] = [];
  if (!primary) reasons.push('no manifest');
  else if (!d.component.version) reasons.push('no version in the manifest');
  if (!digested) reasons.push('no folder digest');
  d.properties.push(prop(`${NS}pinned`, reasons.length === 0));
  if (reasons.length) d.properties.push(prop(`${NS}unpinned-reason`, reasons.join('; ')));
  return reasons.length === 0;
}

function recordAgentPlugins(properties: Property[], agent: AgentPluginsCheck): void {
  properties.push(prop(`${NS}agent-plugins:loadable`, agent.errors.length === 0));
  if (agent.schema) properties.push(prop(`${NS}agent-plugins:schema`, agent.schema.slice(0, 200)));
  for (const e of agent.manifest?.extensions ?? []) properties.push(prop(`${NS}agent-plugins:extension`, e.slice(0, 200)));
}

function digestFailure(ref: string, rel: string, err: unknown): Finding {
  const msg = isAibomError(err) ? err.message : err instanceof Error ? err.message : String(err);
  return {
    code: 'plugin-digest-failed',
    severity: 'high',
    message: `cannot compute the folder digest of ${rel}: ${msg}`,
    component: ref,
    location: { file: rel },
  };
}

const MAX_VERSION_LENGTH = 1024;

/** Name, version, description, license, authors, purl and links from the manifests. */
function applyManifest(c: Component, primary: PluginManifest, all: PluginManifest[]): void {
  // CycloneDX caps a version at 1,024 characters (a longer one is reported as missing).
  if (primary.version && primary.version.length <= MAX_VERSION_LENGTH) c.version = primary.version;
  const pick = <K extends keyof PluginManifest>(k: K) => primary[k] ?? all.find((m) => m[k] !== undefined)?.[k];
  const description = pick('description');
  if (typeof description === 'string') c.description = description;
  const license = pick('license');
  if (typeof license === 'string') c.licenses = [license];
  const author = pick('author') as PluginManifest['author'];
  if (author) {
    // CycloneDX organizationalContact: name and a well-formed email only (a bad email would fail the schema).
    const contact: Record<string, string> = { name: author.name };
    if (author.email && EMAIL.test(author.email)) contact.email = author.email;
    c.extra = { ...c.extra, authors: [contact] };
  }
  // A package manifest gives the package identity, when it names a version, was meant to be
  // published (not "private"), and is the plugin: the plugin's own manifest is the package
  // manifest, or names the same version (a plugin.json at 0.0.4 beside a package.json at 0.0.1
  // is not that package: no purl, and a finding says so).
  const npm = all.find((m) => m.format === 'npm' && m.name && m.version);
  const py = all.find((m) => m.format === 'python' && m.name && m.version);
  const pkg = primary.format === 'python' ? py : (npm ?? py);
  // An MCP bundle ships as a .mcpb file, not through a registry: its package.json is the
  // server's build manifest, unpublished (a registry package of that name is someone else's).
  const samePackage =
    pkg !== undefined && primary.format !== 'mcpb' && (pkg === primary || primary.version === undefined || primary.version === pkg.version);
  if (pkg?.name && pkg.version && !pkg.private && samePackage) {
    try {
      c.purl = pkg.format === 'npm' ? npmPurl(pkg.name, pkg.version) : pypiPurl(pkg.name, pkg.version);
    } catch {
      // an unusable package name: no purl
    }
  }
  if (primary.format === 'npm' && primary.name?.startsWith('@') && primary.name.includes('/')) {
    c.group = primary.name.slice(0, primary.name.indexOf('/'));
    c.name = primary.name.slice(primary.name.indexOf('/') + 1);
  }
  const refs: NonNullable<Component['externalReferences']> = [];
  const homepage = webUrl(pick('homepage'), /^https?:$/);
  if (homepage) refs.push({ type: 'website', url: homepage });
  const repo = webUrl(pick('repository'), /^(https?|git|ssh|git\+https|git\+ssh):$/);
  if (repo) refs.push({ type: 'vcs', url: repo });
  if (refs.length) c.externalReferences = refs;
}

const EMAIL = /^[^\s@<>()]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/;

/** A URL from a manifest, only when it parses, has an allowed scheme and carries no credentials. */
function webUrl(v: unknown, scheme: RegExp): string | undefined {
  if (typeof v !== 'string') return undefined;
  try {
    const u = new URL(v);
    if (!scheme.test(u.protocol) || u.username || u.password) return undefined;
    u.search = '';
    return u.href;
  } catch {
    return undefined;
  }
}

/**
 * The signature files of a plugin folder: at its top (model.sig, *.sigstore.json) and, for an
 * Agent Plugins package, in aibom's reverse-domain extension folder `dev.aibom/` (where
 * `aibom sign` writes them: the spec leaves the top level to its own files).
 */
async function signatureFiles(abs: string): Promise<string[]> {
  const out: string[] = [];
  for (const sub of ['', SIGNATURE_DIR]) {
    try {
      const entries = await readdir(sub ? join(abs, sub) : abs, { withFileTypes: true });
      for (const e of entries) if (e.isFile() && isSignatureFile(e.name)) out.push(sub ? `${sub}/${e.name}` : e.name);
    } catch {
      // no such folder
    }
  }
  return out.sort();
}

