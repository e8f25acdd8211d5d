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

async function discoverAgentFiles(ctx: DiscoverContext): Promise<DiscoverResult> {
  const components: Component[] = [];
  const findings: Finding[] = [];
  const dependencies = new Map<string, Set<string>>();
  const rootDependencies: string[] = [];
  const files = new Map(ctx.walked.files.map((f) => [f.rel, f]));

  // Standalone skills.
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
    components.push(...res.components);
    findings.push(...res.findings);
    rootDependencies.push(res.ref);
    for (const c of res.components) if (c.ref !== res.ref) (dependencies.get(res.ref) ?? dependencies.set(res.ref, new Set()).get(res.ref)!).add(c.ref);
    for (const r of resources) if (/\.(?:md|txt|ya?ml|json)$/i.test(r.name)) await scanText(ctx, `${base}/${r.name}`, res.ref, findings);
  }

  // Agent and command definitions.
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
    components.push({
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
    rootDependencies.push(ref);
    await scanText(ctx, f.rel, ref, findings);
  }

  // Hooks in client settings.
  for (const f of ctx.walked.files) {
    const m = HOOK_FILES.exec(f.rel);
    if (!m || f.size > MAX_TEXT) continue;
    const base = m[1]!;
    let text: string;
    try {
      text = await readTextBounded(f.abs, MAX_TEXT, f.rel);
    } catch (err) {
      findings.push({ code: 'hooks-invalid', severity: 'medium', message: isAibomError(err) ? err.message : String(err), location: { file: f.rel } });
      continue;
    }
    // Settings files are JSONC for some clients: read with the MCP config reader's tolerant parser.
    const parsed = parseMcpConfig(text, f.rel, true);
    if (parsed && !parsed.ok) {
      findings.push({
        code: 'hooks-invalid',
        severity: 'medium',
        message: `cannot read ${f.rel}: ${parsed.error}; its hooks are not in the BOM`,
        location: parsed.line !== undefined ? { file: f.rel, line: parsed.line } : { file: f.rel },
      });
      continue;
    }
    const doc: unknown = parseJsonc(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text, [], { allowTrailingComma: true });
    if (!isObject(doc)) continue;
    const hooks = hookCommands(doc);
    const res = hookComponents(hooks, f.rel, undefined, (script) => {
      const rel = `${base}${script}`;
      const file = files.get(rel);
      return file ? { path: rel, digest: '', pinned: true } : undefined;
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
      rootDependencies.push(c.ref);
    }
    components.push(...res.components);
    findings.push(...res.findings);
  }
  return { components, findings, dependencies, rootDependencies };
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
