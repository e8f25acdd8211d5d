import { isObject } from '../../util/json.js';
import { duplicateKey, parseYamlDocument } from '../../util/yaml.js';
import { frontMatter } from '../models/model-card.js';

/**
 * An Agent Skill's `SKILL.md` (agentskills.io specification, which Agent Plugins §7.1 makes
 * the source of truth): YAML front matter between `---` lines, then Markdown instructions.
 * Required: `name` (1-64 of a-z, 0-9 and `-`, no leading, trailing or doubled hyphen, equal to
 * the skill's folder name) and `description` (1-1024 characters). Optional: `license`,
 * `compatibility` (at most 500 characters), `metadata` (string to string) and `allowed-tools`
 * (space-separated). A skill that breaks these is skipped by a conformant client; aibom lists it
 * and reports why.
 */

export interface SkillFacts {
  name?: string;
  description?: string;
  license?: string;
  compatibility?: string;
  allowedTools?: string[];
  metadata?: Record<string, string>;
  otherFields?: string[];
  /** Why the skill does not conform (a client skips it). */
  errors: string[];
}

const MAX_FRONT_MATTER = 64 * 1024;
const KNOWN = new Set(['name', 'description', 'license', 'compatibility', 'metadata', 'allowed-tools']);

export function isValidSkillName(name: string): boolean {
  return name.length >= 1 && name.length <= 64 && /^[a-z0-9]+(?:-[a-z0-9]+)*$/.test(name);
}

export function parseSkill(text: string, folderName: string): SkillFacts {
  const facts: SkillFacts = { errors: [] };
  const errors = facts.errors;
  const fm = frontMatter(text);
  if (!fm) {
    errors.push('SKILL.md has no YAML front matter (--- … ---)');
    return facts;
  }
  if (fm.yaml.length > MAX_FRONT_MATTER) {
    errors.push(`the front matter is over ${MAX_FRONT_MATTER} bytes`);
    return facts;
  }
  let data: unknown;
  try {
    const doc = parseYamlDocument(fm.yaml, { uniqueKeys: false });
    if (doc.errors.length) {
      errors.push(`the front matter is not valid YAML: ${doc.errors[0]!.message.split('\n')[0]}`);
      return facts;
    }
    const dup = duplicateKey(doc);
    if (dup) {
      errors.push(`the front matter gives ${JSON.stringify(dup.key)} twice`);
      return facts;
    }
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    errors.push(`the front matter is not valid YAML: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
    return facts;
  }
  if (!isObject(data)) {
    errors.push('the front matter is not a YAML mapping');
    return facts;
  }
  const name = data.name;
  if (typeof name !== 'string' || !name) errors.push('"name" is missing or not a string');
  else {
    facts.name = name.slice(0, 200);
    if (!isValidSkillName(name))
      errors.push(`"name" ${JSON.stringify(name.slice(0, 80))} breaks the naming rules (1-64 of a-z, 0-9 and single hyphens inside)`);
    if (name !== folderName) errors.push(`"name" ${JSON.stringify(name.slice(0, 80))} is not the folder's name ${JSON.stringify(folderName)}`);
  }
  const description = data.description;
  if (typeof description !== 'string' || !description.trim()) errors.push('"description" is missing or empty');
  else {
    facts.description = description.length > 1024 ? `${description.slice(0, 1024)}…` : description;
    if (description.length > 1024) errors.push('"description" is longer than 1024 characters');
  }
  if (data.license !== undefined) {
    if (typeof data.license === 'string') facts.license = data.license.slice(0, 200);
    else errors.push('"license" is not a string');
  }
  if (data.compatibility !== undefined) {
    if (typeof data.compatibility !== 'string') errors.push('"compatibility" is not a string');
    else {
      facts.compatibility = data.compatibility.slice(0, 500);
      if (data.compatibility.length > 500) errors.push('"compatibility" is longer than 500 characters');
    }
  }
  const tools = data['allowed-tools'];
  if (tools !== undefined) {
    // The spec says space-separated; clients also accept a YAML list. Both are recorded.
    if (typeof tools === 'string') facts.allowedTools = tools.split(/\s+/).filter(Boolean).slice(0, 200);
    else if (Array.isArray(tools) && tools.every((t) => typeof t === 'string')) facts.allowedTools = (tools as string[]).slice(0, 200);
    else errors.push('"allowed-tools" is not a space-separated string');
  }
  if (data.metadata !== undefined) {
    if (!isObject(data.metadata)) errors.push('"metadata" is not a mapping');
    else {
      const md: Record<string, string> = {};
      for (const [k, v] of Object.entries(data.metadata).slice(0, 100)) {
        if (typeof v === 'string') Object.defineProperty(md, k, { value: v, enumerable: true, writable: true, configurable: true });
        else errors.push(`"metadata.${k.slice(0, 80)}" is not a string`);
      }
      facts.metadata = md;
    }
  }
  // Fields the Agent Skills specification does not define (clients add their own, e.g. Claude
  // Code's `model`): recorded, not an error.
  const extra = Object.keys(data).filter((k) => !KNOWN.has(k));
  if (extra.length) facts.otherFields = extra.slice(0, 50).map((k) => k.slice(0, 80));
  return facts;
}
