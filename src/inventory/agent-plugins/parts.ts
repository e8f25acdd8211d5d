import { entryFileReason, isScriptInterpreter } from './shebang.js';
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { isAibomError } from '../../errors.js';
import { readTextBounded } from '../../util/fs.js';
import { isObject } from '../../util/json.js';
import { manifestDigest, type ResourceDigest } from '../../digest/digest.js';
import { parseMcpConfig } from '../mcp/config-file.js';
import { describeOwnedServer, safeName } from '../mcp/index.js';
import { launcherOverride } from '../mcp/launch.js';
import type { Component, Finding, Property, Service } from '../types.js';
import type { WalkResult } from '../walk.js';
import { NS, prop } from '../types.js';
import { hookCommands } from './hooks.js';
import { describeHit, findInvisible } from './invisible.js';
import { parseStrictJson } from './json.js';
import { isExtensionNamespace } from './manifest.js';
import { type AgentMcpEntry, checkAgentMcpConfig } from './mcp-config.js';
import { findDownloadAndRun } from './script-risk.js';
import { parseSkill } from './skill.js';

/**
 * What a plugin folder holds besides its manifest, each as a component linked to the plugin:
 * skills (`skills/<name>/SKILL.md`) and their scripts, an Agent Plugins `mcp.json`, reverse-domain
 * extension folders (opaque), and a Claude Code plugin's commands, agents, hooks and `.mcp.json`.
 * Works from the plugin's digested file list (regular files only: symlinks are never read),
 * so every part's hash is the one the plugin's folder digest covers.
 */

export interface PluginUnit {
  /** Absolute root scanned. */
  root: string;
  /** Plugin folder, POSIX relative to the root ('' for the root itself). */
  rel: string;
  abs: string;
  ref: string;
  name: string;
  /** Is the plugin itself pinned (manifest, version, digest)? Bundled parts inherit it. */
  pinned: boolean;
  /** The plugin's digested files; undefined when the digest failed. */
  resources: ResourceDigest[] | undefined;
  /** Agent Plugins 1.0 package: its manifest `$schema`, and whether a client would load it. */
  agentPlugins?: { schema?: string; loadable: boolean; extensions: string[] };
  /** The scan's walk: registry and index settings beside the plugin's MCP config count (src/inventory/mcp). */
  walked: WalkResult;
}

export interface Parts {
  components: Component[];
  services: Service[];
  findings: Finding[];
  dependencies: Map<string, Set<string>>;
  /** Files read here that other discoverers must not read again. */
  claimed: string[];
}

const MAX_TEXT_BYTES = 1024 * 1024;
/** Files scanned for invisible characters: what an agent or a person reads as text. */
const TEXT_EXT = /\.(?:md|mdx|markdown|txt|json|jsonc|ya?ml|toml|sh|bash|zsh|py|js|mjs|cjs|ts|ps1|rb|pl)$/i;
const SCRIPT_EXT = /\.(?:sh|bash|zsh|fish|py|js|mjs|cjs|ts|ps1|psm1|bat|cmd|rb|pl|php|lua|go)$/i;

export function joinRel(a: string, b: string): string {
  return a ? `${a}/${b}` : b;
}

async function readText(unit: PluginUnit, name: string): Promise<string | { error: string }> {
  try {
    return await readTextBounded(join(unit.abs, ...name.split('/')), MAX_TEXT_BYTES, joinRel(unit.rel, name));
  } catch (err) {
    return { error: isAibomError(err) ? err.message : String(err) };
  }
}

/** Add a dependency edge to the parts' graph. */
function linkIn(out: Parts, from: string, to: string): void {
  const s = out.dependencies.get(from);
  if (s) s.add(to);
  else out.dependencies.set(from, new Set([to]));
}

export async function describePluginParts(unit: PluginUnit): Promise<Parts> {
  const out: Parts = { components: [], services: [], findings: [], dependencies: new Map(), claimed: [] };
  const res = unit.resources ?? [];
  const byName = new Map(res.map((r) => [r.name, r]));
  await scanInvisible(unit, res, out);
  await addSkills(unit, res, out);
  if (unit.agentPlugins) await addAgentPluginsParts(unit, res, byName.has('mcp.json'), out);
  await addClaudeCodeParts(unit, res, byName, out);
  return out;
}

/** Invisible characters in every text file of the plugin. */
async function scanInvisible(unit: PluginUnit, res: ResourceDigest[], out: Parts): Promise<void> {
  for (const r of res) {
    if (!TEXT_EXT.test(r.name) || r.size > MAX_TEXT_BYTES) continue;
    const text = await readText(unit, r.name);
    if (typeof text !== 'string') continue;
    for (const hit of findInvisible(text)) {
      out.findings.push({
        code: 'invisible-unicode',
        severity: hit.kind === 'zero-width' ? 'medium' : 'high',
        message: `${joinRel(unit.rel, r.name)} line ${hit.line}: ${describeHit(hit)}`,
        component: unit.ref,
        location: { file: joinRel(unit.rel, r.name), line: hit.line },
      });
    }
  }
}

/** Skills: each immediate child of skills/ holding a regular SKILL.md (never deeper). */
async function addSkills(unit: PluginUnit, res: ResourceDigest[], out: Parts): Promise<void> {
  const loadable = unit.agentPlugins ? unit.agentPlugins.loadable : true;
  const skillNames = [...new Set(res.map((r) => /^skills\/([^/]+)\/SKILL\.md$/.exec(r.name)?.[1]).filter((x): x is string => !!x))].sort();
  for (const folder of skillNames) {
    const skill = await describeSkill(unit, `skills/${folder}`, folder, res, loadable);
    out.components.push(...skill.components);
    out.findings.push(...skill.findings);
    linkIn(out, unit.ref, skill.ref);
    for (const c of skill.components) if (c.ref !== skill.ref) linkIn(out, skill.ref, c.ref);
  }
}

/** An Agent Plugins package: its mcp.json servers, and its reverse-domain extension folders (opaque, digested). */
async function addAgentPluginsParts(unit: PluginUnit, res: ResourceDigest[], hasMcpJson: boolean, out: Parts): Promise<void> {
  const mcp = await agentMcp(unit, hasMcpJson);
  out.components.push(...mcp.components);
  out.services.push(...mcp.services);
  out.findings.push(...mcp.findings);
  out.claimed.push(...mcp.claimed);
  for (const c of [...mcp.components, ...mcp.services]) linkIn(out, unit.ref, c.ref);
  // Reverse-domain extension folders: opaque, recorded with a digest of their files.
  const dirs = new Set(res.map((r) => r.name.split('/')[0]!).filter((d, _i) => isExtensionNamespace(d)));
  for (const d of [...dirs].sort()) {
    const files = res.filter((r) => r.name.startsWith(`${d}/`));
    if (!files.length) continue;
    out.findings.push({
      code: 'agent-plugin-extension',
      severity: 'info',
      message: `plugin ${unit.name}: client extension folder ${d}/ (${files.length} files, sha256:${manifestDigest(files.map((f) => ({ name: f.name.slice(d.length + 1), digest: f.digest })))}); its contents are defined by that client`,
      component: unit.ref,
      location: { file: joinRel(unit.rel, d) },
    });
  }
}

/** Claude Code plugin parts (also in packages carrying both manifests): commands, agents, hooks, `.mcp.json`. */
async function addClaudeCodeParts(unit: PluginUnit, res: ResourceDigest[], byName: Map<string, ResourceDigest>, out: Parts): Promise<void> {
  for (const r of res) {
    const m = /^(commands|agents)\/(.+\.md)$/.exec(r.name);
    if (!m) continue;
    const kind = m[1] === 'commands' ? 'command' : 'agent';
    const c: Component = {
      ref: `${kind}:${joinRel(unit.rel, r.name)}`,
      type: 'file',
      name: posix.basename(r.name, '.md'),
      hashes: [{ alg: 'SHA-256', content: r.digest }],
      properties: [prop(`${NS}kind`, kind), prop(`${NS}plugin`, unit.ref), prop(`${NS}pinned`, unit.pinned)],
      locations: [{ file: joinRel(unit.rel, r.name) }],
    };
    if (!unit.pinned) c.properties.push(prop(`${NS}unpinned-reason`, 'its plugin is not pinned'));
    out.components.push(c);
    linkIn(out, unit.ref, c.ref);
  }
  const hookSets: Array<{ components: Component[]; findings: Finding[] }> = [];
  if (byName.has('hooks/hooks.json')) hookSets.push(await pluginHooks(unit, 'hooks/hooks.json', byName));
  // Claude Code also takes hooks declared in the manifest: inline, or paths to more hook files.
  if (byName.has('.claude-plugin/plugin.json')) hookSets.push(...(await manifestHooks(unit, byName)));
  for (const h of hookSets) {
    out.components.push(...h.components);
    out.findings.push(...h.findings);
    for (const c of h.components) linkIn(out, unit.ref, c.ref);
  }
  if (byName.has('.mcp.json')) {
    // Read by the MCP discoverer (src/inventory/mcp); linked here to its plugin.
    const text = await readText(unit, '.mcp.json');
    if (typeof text === 'string') {
      const file = joinRel(unit.rel, '.mcp.json');
      const parsed = parseMcpConfig(text, file, true);
      if (parsed?.ok) for (const s of parsed.servers) linkIn(out, unit.ref, `mcp:${file}#${safeName(s.name)}`);
    }
  }
}

interface SkillResult {
  ref: string;
  components: Component[];
  findings: Finding[];
}

/** One skill folder (`dir` relative to the unit) as a component, with its scripts. */
export async function describeSkill(
  unit: PluginUnit,
  dir: string,
  folder: string,
  res: ResourceDigest[],
  parentLoadable: boolean,
): Promise<SkillResult> {
  const relDir = joinRel(unit.rel, dir);
  const ref = `skill:${relDir}`;
  const findings: Finding[] = [];
  const files = res.filter((r) => r.name.startsWith(`${dir}/`)).map((r) => ({ ...r, name: r.name.slice(dir.length + 1) }));
  const digest = manifestDigest(files);
  const properties: Property[] = [
    prop(`${NS}kind`, 'skill'),
    prop(`${NS}skill:path`, relDir),
    prop(`${NS}folder-digest`, `sha256:${digest}`),
    prop(`${NS}file-count`, files.length),
  ];
  if (unit.ref !== ref) properties.push(prop(`${NS}plugin`, unit.ref));
  const c: Component = { ref, type: 'library', name: folder, hashes: [{ alg: 'SHA-256', content: digest }], properties, locations: [{ file: `${relDir}/SKILL.md` }] };
  const text = await readText(unit, `${dir}/SKILL.md`);
  const facts = typeof text === 'string' ? parseSkill(text, folder) : { errors: [text.error] };
  if ('name' in facts && facts.name) c.name = facts.name;
  if ('description' in facts && facts.description) c.description = facts.description;
  if ('license' in facts && facts.license) c.licenses = [facts.license];
  if ('allowedTools' in facts && facts.allowedTools) properties.push(prop(`${NS}skill:allowed-tools`, facts.allowedTools.join(' ')));
  if ('compatibility' in facts && facts.compatibility) properties.push(prop(`${NS}skill:compatibility`, facts.compatibility));
  if ('metadata' in facts && facts.metadata?.version) c.version = facts.metadata.version.slice(0, 1024);
  if ('otherFields' in facts && facts.otherFields) properties.push(prop(`${NS}skill:other-fields`, facts.otherFields.join(',')));
  const valid = facts.errors.length === 0;
  properties.push(prop(`${NS}skill:valid`, valid));
  if (!valid) {
    findings.push({
      code: 'skill-invalid',
      severity: 'medium',
      message: `skill ${relDir}: ${facts.errors.join('; ')} (a conformant client skips this skill)`,
      component: ref,
      location: { file: `${relDir}/SKILL.md` },
    });
  }
  if (!parentLoadable) properties.push(prop(`${NS}skill:loadable`, false));
  // Pinned: the skill is part of a pinned plugin, or (standalone) its content is hashed here.
  properties.push(prop(`${NS}pinned`, unit.pinned));
  if (!unit.pinned) properties.push(prop(`${NS}unpinned-reason`, unit.ref === ref ? 'no version in the skill (metadata.version)' : 'its plugin is not pinned'));

  const components: Component[] = [c];
  for (const f of files) {
    const isScript = f.name.startsWith('scripts/') || SCRIPT_EXT.test(f.name) || (await looksRunnable(unit, `${dir}/${f.name}`));
    if (!isScript) continue;
    const path = `${relDir}/${f.name}`;
    const s: Component = {
      ref: `skill-script:${path}`,
      type: 'file',
      name: f.name,
      hashes: [{ alg: 'SHA-256', content: f.digest }],
      properties: [prop(`${NS}kind`, 'skill-script'), prop(`${NS}skill`, ref), prop(`${NS}pinned`, unit.pinned)],
      locations: [{ file: path }],
    };
    components.push(s);
    if (f.size > MAX_TEXT_BYTES) continue;
    const body = await readText(unit, `${dir}/${f.name}`);
    if (typeof body !== 'string') continue;
    const risks = findDownloadAndRun(body);
    if (risks.length) {
      // The script is hashed, but what it fetches and runs is not pinned by anything.
      s.properties = s.properties.filter((p) => p.name !== `${NS}pinned`);
      s.properties.push(prop(`${NS}downloads-and-runs`, true), prop(`${NS}pinned`, false), prop(`${NS}unpinned-reason`, 'downloads code and runs it'));
    }
    for (const risk of risks) {
      findings.push({
        code: 'skill-script-download-exec',
        severity: 'high',
        message: `skill ${c.name}: ${path} line ${risk.line} downloads code and runs it (${JSON.stringify(risk.text)}); what it runs is not pinned by anything`,
        component: s.ref,
        location: { file: path, line: risk.line },
      });
    }
  }
  return { ref, components, findings };
}

/** A file with an executable bit or a `#!` line is a script whatever its name (`skills/x/install`). */
async function looksRunnable(unit: PluginUnit, name: string): Promise<boolean> {
  let fh: Awaited<ReturnType<typeof open>> | undefined;
  try {
    fh = await open(join(unit.abs, ...name.split('/')), constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0));
    const st = await fh.stat();
    if (!st.isFile()) return false;
    if ((st.mode & 0o111) !== 0) return true;
    const head = Buffer.alloc(2);
    const { bytesRead } = await fh.read(head, 0, 2, 0);
    return bytesRead === 2 && head.toString('latin1') === '#!';
  } catch {
    return false;
  } finally {
    await fh?.close();
  }
}

async function agentMcp(
  unit: PluginUnit,
  present: boolean,
): Promise<{ components: Component[]; services: Service[]; findings: Finding[]; claimed: string[] }> {
  const out = { components: [] as Component[], services: [] as Service[], findings: [] as Finding[], claimed: [] as string[] };
  const file = joinRel(unit.rel, 'mcp.json');
  if (!present) return out; // absent (a link or a folder named mcp.json is not a regular file: the plugin's symlink findings say so)
  out.claimed.push(file);
  const text = await readText(unit, 'mcp.json');
  const invalid = (error: string, line?: number) =>
    out.findings.push({
      code: 'agent-plugin-mcp-invalid',
      severity: 'medium',
      message: `${file}: ${error}; a conformant client loads none of its MCP servers`,
      component: unit.ref,
      location: line !== undefined ? { file, line } : { file },
    });
  if (typeof text !== 'string') {
    invalid(text.error);
    return out;
  }
  const checked = checkAgentMcpConfig(text, file, unit.agentPlugins?.schema);
  // Server lines (and the generic reading of each entry) from the MCP config reader.
  const generic = parseMcpConfig(text, file, true);
  const lines = new Map<string, number>();
  if (generic?.ok) for (const s of generic.servers) if (s.section === 'mcpServers') lines.set(s.name, s.line);
  if (!checked.ok) invalid(checked.error, checked.line);
  const entries: AgentMcpEntry[] = checked.ok
    ? checked.entries
    : generic?.ok
      ? generic.servers.filter((s) => s.section === 'mcpServers').map((s) => ({ name: s.name, def: s.def, errors: [] }))
      : [];
  const refs = new Set<string>();
  for (const e of entries) {
    const line = lines.get(e.name) ?? 1;
    const d = await describeOwnedServer({ name: e.name, def: e.def, line, section: 'mcpServers' }, file, unit.walked, refs);
    const target = d.component ?? d.service;
    let findings = d.findings;
    if (target) {
      target.properties.push(prop(`${NS}plugin`, unit.ref));
      const usable = checked.ok && e.errors.length === 0 && (unit.agentPlugins?.loadable ?? false);
      target.properties.push(prop(`${NS}agent-plugins:loadable`, usable));
      if (d.component && e.server?.type === 'stdio') {
        // A server the plugin bundles (./bin/x, or a file under ${PLUGIN_ROOT}) is pinned by the plugin's digest.
        const entry = bundledEntry(e.server.command, e.server.args, Object.keys(e.server.env));
        const r = entry ? unit.resources?.find((x) => x.name === entry) : undefined;
        // A bundled file that itself downloads code and runs it pins nothing of what it runs.
        const body = r && r.size <= MAX_TEXT_BYTES ? await readText(unit, r.name) : undefined;
        const risks = typeof body === 'string' ? findDownloadAndRun(body) : [];
        // The command is the file itself: what runs is what its #! line says.
        const launch = r && e.server.command.startsWith('./') ? await entryFileReason(join(unit.abs, ...r.name.split('/'))) : undefined;
        if (launch) {
          findings.push({
            code: 'mcp-server-unpinned',
            severity: 'high',
            message: `${file}: MCP server "${safeName(e.name)}" runs ${joinRel(unit.rel, r!.name)}, and ${launch}`,
            component: d.component.ref,
            location: { file: joinRel(unit.rel, r!.name), line: 1 },
          });
        }
        for (const risk of risks) {
          findings.push({
            code: 'mcp-server-unpinned',
            severity: 'high',
            message: `${file}: MCP server "${safeName(e.name)}" runs ${joinRel(unit.rel, r!.name)}, which downloads code and runs it (line ${risk.line}: ${JSON.stringify(risk.text)})`,
            component: d.component.ref,
            location: { file: joinRel(unit.rel, r!.name), line: risk.line },
          });
        }
        if (r && !risks.length && !launch) {
          d.component.hashes.push({ alg: 'SHA-256', content: r.digest });
          const props = d.component.properties.filter((p) => p.name !== `${NS}pinned` && p.name !== `${NS}unpinned-reason`);
          props.push(prop(`${NS}mcp:bundled-entry`, joinRel(unit.rel, entry!)), prop(`${NS}pinned`, unit.pinned));
          if (!unit.pinned) props.push(prop(`${NS}unpinned-reason`, 'its plugin is not pinned'));
          d.component.properties = props;
          if (unit.pinned) findings = findings.filter((f) => f.code !== 'mcp-server-unpinned');
        }
      }
      if (d.component) out.components.push(d.component);
      if (d.service) out.services.push(d.service);
    }
    out.findings.push(...findings);
    if (e.errors.length) {
      out.findings.push({
        code: 'agent-plugin-mcp-server-invalid',
        severity: 'medium',
        message: `${file}: MCP server "${safeName(e.name)}": ${e.errors.join('; ')}; a conformant client skips it`,
        component: target?.ref ?? unit.ref,
        location: { file, line },
      });
    }
  }
  return out;
}

/**
 * The plugin file a stdio server runs, when that is all it runs: the command is the file
 * (`./bin/x`), or a known interpreter whose first argument is `${PLUGIN_ROOT}/…` (its script).
 * Anything else — a launcher (npx, uvx, docker…) with a plugin file as a later argument, a flag
 * before the script, a shell `-c` line, an environment that loads other code (NODE_OPTIONS,
 * PYTHONPATH, LD_PRELOAD…) — is not a bundled server: the caller keeps the generic analysis.
 */
export function bundledEntry(command: string, args: readonly string[], envNames: readonly string[] = []): string | undefined {
  if (launcherOverride('binary', envNames)) return undefined;
  if (command.startsWith('./')) return pluginFile(command.slice(2));
  if (!/^[A-Za-z0-9._-]+$/.test(command)) return undefined; // an interpreter by name only (a path could be anything)
  if (!isScriptInterpreter(command)) return undefined;
  const m = /^\$\{PLUGIN_ROOT\}\/(.+)$/.exec(args[0] ?? '');
  return m ? pluginFile(m[1]!) : undefined;
}

function pluginFile(rel: string): string | undefined {
  const parts = rel.split('/');
  return parts.some((p) => p === '' || p === '.' || p === '..') ? undefined : rel;
}

/** Hooks a Claude Code manifest declares: `"hooks": {…}` inline, or a path (or paths) to hook files in the plugin. */
async function manifestHooks(unit: PluginUnit, byName: Map<string, ResourceDigest>): Promise<Array<{ components: Component[]; findings: Finding[] }>> {
  const manifest = '.claude-plugin/plugin.json';
  const file = joinRel(unit.rel, manifest);
  const text = await readText(unit, manifest);
  if (typeof text !== 'string') return [];
  const parsed = parseStrictJson(text, file);
  const decl = parsed.ok && isObject(parsed.value) ? parsed.value.hooks : undefined;
  const out: Array<{ components: Component[]; findings: Finding[] }> = [];
  if (isObject(decl)) {
    const doc = isObject(decl.hooks) ? decl : { hooks: decl };
    out.push(
      await hookComponents(hookCommands(doc), file, unit.ref, (script) => {
        const r = byName.get(script);
        return r ? { path: joinRel(unit.rel, script), digest: r.digest, pinned: unit.pinned, abs: join(unit.abs, ...script.split('/')) } : undefined;
      }),
    );
  }
  const paths = typeof decl === 'string' ? [decl] : Array.isArray(decl) ? decl.filter((p): p is string => typeof p === 'string') : [];
  for (const p of paths.slice(0, 64)) {
    const name = posix.normalize(p.replace(/\\/g, '/').replace(/^(\$\{CLAUDE_PLUGIN_ROOT\}\/|\.\/)/, ''));
    if (name === 'hooks/hooks.json') continue;
    if (!byName.has(name)) {
      out.push({
        components: [],
        findings: [
          {
            code: 'hooks-invalid',
            severity: 'high',
            message: `${file}: hooks file ${JSON.stringify(p.slice(0, 200))} is not a file of the plugin; its hooks cannot be judged`,
            component: unit.ref,
            location: { file },
          },
        ],
      });
      continue;
    }
    out.push(await pluginHooks(unit, name, byName));
  }
  return out;
}

async function pluginHooks(
  unit: PluginUnit,
  name: string,
  byName: Map<string, ResourceDigest>,
): Promise<{ components: Component[]; findings: Finding[] }> {
  const file = joinRel(unit.rel, name);
  const text = await readText(unit, name);
  const findings: Finding[] = [];
  if (typeof text !== 'string') return { components: [], findings };
  const parsed = parseStrictJson(text, file);
  if (!parsed.ok || !isObject(parsed.value)) {
    findings.push({
      code: 'hooks-invalid',
      severity: 'medium',
      message: `${file}: ${parsed.ok ? 'not a JSON object' : parsed.error}; its hooks are not in the BOM`,
      component: unit.ref,
      location: { file },
    });
    return { components: [], findings };
  }
  return hookComponents(hookCommands(parsed.value), file, unit.ref, (script) => {
    const r = byName.get(script);
    return r ? { path: joinRel(unit.rel, script), digest: r.digest, pinned: unit.pinned, abs: join(unit.abs, ...script.split('/')) } : undefined;
  });
}

/** Hook commands as components: what each runs and whether that is pinned. */
export async function hookComponents(
  hooks: ReturnType<typeof hookCommands>,
  file: string,
  owner: string | undefined,
  resolveScript: (script: string) => { path: string; digest: string; pinned: boolean; abs?: string } | undefined,
): Promise<{ components: Component[]; findings: Finding[] }> {
  const components: Component[] = [];
  const findings: Finding[] = [];
  const count = new Map<string, number>();
  for (const h of hooks) {
    const n = (count.get(h.event) ?? 0) + 1;
    count.set(h.event, n);
    const ref = `hook:${file}#${h.event}/${n}`;
    const properties: Property[] = [prop(`${NS}kind`, 'hook'), prop(`${NS}hook:event`, h.event), prop(`${NS}hook:command`, h.command)];
    if (h.field !== 'command') properties.push(prop(`${NS}hook:shell`, h.field));
    if (owner) properties.push(prop(`${NS}plugin`, owner));
    const c: Component = { ref, type: 'application', name: `${h.event} hook`, hashes: [], properties, locations: [{ file }] };
    let pinned = false;
    let reason = 'runs a program found on PATH: nothing pins what it runs';
    const script = h.script ? resolveScript(h.script) : undefined;
    if (script) {
      c.hashes.push({ alg: 'SHA-256', content: script.digest });
      properties.push(prop(`${NS}hook:script`, script.path));
      pinned = script.pinned;
      reason = 'its plugin is not pinned';
      // What runs is what the script's #! line says (as for a bundled MCP server's ./file command).
      const launch = script.abs ? await entryFileReason(script.abs) : undefined;
      if (launch) {
        pinned = false;
        reason = `runs ${script.path}, and ${launch}`;
      }
    } else if (h.script) {
      reason = `runs ${h.script}, which is not a file in the scanned folder`;
    } else if (h.launch) {
      properties.push(prop(`${NS}hook:launcher`, h.launch.launcher));
      if (h.launch.package) properties.push(prop(`${NS}hook:package`, h.launch.package.spec));
      if (h.launch.package?.purl && h.launch.pinned) c.purl = h.launch.package.purl;
      pinned = h.launch.pinned;
      reason = h.launch.reason ?? reason;
    }
    if (h.downloadsAndRuns) {
      pinned = false;
      reason = 'downloads code and runs it';
      findings.push({
        code: 'hook-download-exec',
        severity: 'high',
        message: `${file}: the ${h.event} hook downloads code and runs it: ${h.command.slice(0, 200)}`,
        component: ref,
        location: { file },
      });
    }
    properties.push(prop(`${NS}pinned`, pinned));
    if (!pinned) {
      properties.push(prop(`${NS}unpinned-reason`, reason));
      if (!h.downloadsAndRuns)
        findings.push({
          code: 'hook-unpinned',
          severity: 'low',
          message: `${file}: the ${h.event} hook is not pinned: ${reason}`,
          component: ref,
          location: { file },
        });
    }
    components.push(c);
  }
  return { components, findings };
}
