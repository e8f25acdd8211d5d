import { join } from 'node:path';
import { parse as parseJsonc } from 'jsonc-parser';
import { isAibomError } from '../../errors.js';
import { readTextBounded } from '../../util/fs.js';
import { isObject } from '../../util/json.js';
import { sha256File } from '../../digest/digest.js';
import type { DiscoverContext, DiscoverResult, Discoverer } from '../discoverer.js';
import { parseMcpConfig } from '../mcp/config-file.js';
import type { Component, Finding } from '../types.js';
import { hookCommands } from './hooks.js';
import { describeHit, findInvisible } from './invisible.js';
import { describeSkill, hookComponents, type PluginUnit } from './parts.js';

/**
 * What agents load from a project outside any plugin: standalone skills folders
 * (`.agents/skills`, `.claude/skills`, `.github/skills` …, one skill per child folder holding
 * a SKILL.md), Claude Code agent and command definitions (`.claude/agents/*.md`,
 * `.claude/commands/*.md`, GitHub Copilot `.github/agents/*.md`), and hooks in client settings
 * (`.claude/settings*.json`, `.gemini/settings.json`, `.cursor/hooks.json`,
 * `.github/hooks/*.json`). Skills inside plugins are the plugins discoverer's.
 */

export const agentFilesDiscoverer: Discoverer = {
  name: 'skills-and-hooks',
  discover: discoverAgentFiles,
};

const CLIENT_DIRS = '(?:agents|claude|github|cursor|codex|gemini|kiro|opencode|windsurf|goose|roo|amp|junie|augment|qwen)';
/** `<base>/.<client>/skills/<name>/SKILL.md` (and OpenCode's `.opencode/skill/`). */
const SKILL_MD = new RegExp(`^((?:.*/)?\\.${CLIENT_DIRS}/skills?)/([^/]+)/SKILL\\.md$`);
const AGENT_MD = /^(?:.*\/)?\.(?:claude\/(?:agents|commands)|github\/agents|github\/prompts|cursor\/commands)\/[^/]+\.md$/;
const HOOK_FILES = /^((?:.*\/)?)(?:\.claude\/settings(?:\.local)?\.json|\.gemini\/settings\.json|\.cursor\/hooks\.json|\.github\/hooks\/[^/]+\.json)$/;
const MAX_TEXT = 1024 * 1024;

/** What the three steps below add to: the discoverer's result, every list present. */
interface Found {
  components: Component[];
  findings: Finding[];
  dependencies: Map<string, Set<string>>;
  rootDependencies: string[];
}

async function discoverAgentFiles(ctx: DiscoverContext): Promise<DiscoverResult> {
  const found: Found = { components: [], findings: [], dependencies: new Map(), rootDependencies: [] };
  await discoverSkills(ctx, found);
  await discoverDefinitions(ctx, found);
  await discoverHooks(ctx, found);
  return found;
}

/** Standalone skills: one per folder holding a SKILL.md under a client's skills folder, hashed file by file. */
async function discoverSkills(ctx: DiscoverContext, found: Found): Promise<void> {
  const skills = new Map<string, { base: string; folder: string }>();
  for (const f of ctx.walked.files) {
    const m = SKILL_MD.exec(f.rel);
    if (m && f.size <= MAX_TEXT) skills.set(`${m[1]}/${m[2]}`, { base: m[1]!, folder: m[2]! });
  }
  for (const [dir, { base, folder }] of [...skills].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    const prefix = `${dir}/`;
    const resources = [];
    for (const f of ctx.walked.files) {
      if (!f.rel.startsWith(prefix)) continue;
      try {
        resources.push({ name: `${folder}/${f.rel.slice(prefix.length)}`, digest: await sha256File(f.abs), size: f.size });
      } catch {
        // vanished while scanning: left out
      }
    }
    const unit: PluginUnit = { root: ctx.root, rel: base, abs: join(ctx.root, ...base.split('/')), ref: `skill:${dir}`, name: folder, pinned: true, resources, walked: ctx.walked };
    const res = await describeSkill(unit, folder, folder, resources, true);
    found.components.push(...res.components);
    found.findings.push(...res.findings);
    found.rootDependencies.push(res.ref);
    const deps = found.dependencies;
    for (const c of res.components) if (c.ref !== res.ref) (deps.get(res.ref) ?? deps.set(res.ref, new Set()).get(res.ref)!).add(c.ref);
    for (const r of resources) if (/\.(?:md|txt|ya?ml|json)$/i.test(r.name)) await scanText(ctx, `${base}/${r.name}`, res.ref, found.findings);
  }
}

/** Agent and command definitions: one hashed file each, its text scanned. */
async function discoverDefinitions(ctx: DiscoverContext, found: Found): Promise<void> {
  for (const f of ctx.walked.files) {
    if (!AGENT_MD.test(f.rel) || f.size > MAX_TEXT) continue;
    const kind = /\/(?:commands|prompts)\//.test(f.rel) ? 'command' : 'agent';
    let digest: string;
    try {
      digest = await sha256File(f.abs);
    } catch {
      continue;
    }
    const ref = `${kind}:${f.rel}`;
    found.components.push({
      ref,
      type: 'file',
      name: f.rel.slice(f.rel.lastIndexOf('/') + 1).replace(/\.md$/, ''),
      hashes: [{ alg: 'SHA-256', content: digest }],
      properties: [
        { name: 'aibom:kind', value: kind },
        { name: 'aibom:pinned', value: 'true' },
      ],
      locations: [{ file: f.rel }],
    });
    found.rootDependencies.push(ref);
    await scanText(ctx, f.rel, ref, found.findings);
  }
}

/** Hooks in client settings files: one component per hook command, the script it runs hashed. */
async function discoverHooks(ctx: DiscoverContext, found: Found): Promise<void> {
  const files = new Map(ctx.walked.files.map((f) => [f.rel, f]));
  for (const f of ctx.walked.files) {
    const m = HOOK_FILES.exec(f.rel);
    if (!m || f.size > MAX_TEXT) continue;
    const doc = await readSettings(f.abs, f.rel, found.findings);
    if (!isObject(doc)) continue;
    const base = m[1]!;
    const res = await hookComponents(hookCommands(doc), f.rel, undefined, (script) => {
      const rel = `${base}${script}`;
      const file = files.get(rel);
      return file ? { path: rel, digest: '', pinned: true, abs: file.abs } : undefined;
    });
    for (const c of res.components) {
      const script = c.properties.find((p) => p.name === 'aibom:hook:script')?.value;
      const file = script ? files.get(script) : undefined;
      c.hashes = [];
      if (file) {
        try {
          c.hashes.push({ alg: 'SHA-256', content: await sha256File(file.abs) });
        } catch {
          // vanished while scanning
        }
      }
      found.rootDependencies.push(c.ref);
    }
    found.components.push(...res.components);
    found.findings.push(...res.findings);
  }
}

/** A client settings file as plain data; undefined (with a `hooks-invalid` finding) when it cannot be read. */
async function readSettings(abs: string, rel: string, findings: Finding[]): Promise<unknown> {
  let text: string;
  try {
    text = await readTextBounded(abs, MAX_TEXT, rel);
  } catch (err) {
    findings.push({ code: 'hooks-invalid', severity: 'medium', message: isAibomError(err) ? err.message : String(err), location: { file: rel } });
    return undefined;
  }
  // Settings files are JSONC for some clients: read with the MCP config reader's tolerant parser.
  const parsed = parseMcpConfig(text, rel, true);
  if (parsed && !parsed.ok) {
    findings.push({
      code: 'hooks-invalid',
      severity: 'medium',
      message: `cannot read ${rel}: ${parsed.error}; its hooks are not in the BOM`,
      location: parsed.line !== undefined ? { file: rel, line: parsed.line } : { file: rel },
    });
    return undefined;
  }
  return parseJsonc(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text, [], { allowTrailingComma: true });
}

async function scanText(ctx: DiscoverContext, rel: string, ref: string, findings: Finding[]): Promise<void> {
  let text: string;
  try {
    text = await readTextBounded(join(ctx.root, ...rel.split('/')), MAX_TEXT, rel);
  } catch {
    return;
  }
  for (const hit of findInvisible(text)) {
    findings.push({
      code: 'invisible-unicode',
      severity: hit.kind === 'zero-width' ? 'medium' : 'high',
      message: `${rel} line ${hit.line}: ${describeHit(hit)}`,
      component: ref,
      location: { file: rel, line: hit.line },
    });
  }
}
