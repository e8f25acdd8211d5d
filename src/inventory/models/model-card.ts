import { createRequire } from 'node:module';
import { isObject, jsonDepth } from '../../util/json.js';
import { lazy } from '../../util/lazy.js';
import { lineAt, parseYamlDocument } from '../../util/yaml.js';

const require = createRequire(import.meta.url);

// Loaded on first use (see lazy): most builds have no model card to read.
const yaml = lazy(() => require('yaml') as typeof import('yaml'));
const spdx = lazy(() => require('@cyclonedx/cyclonedx-library/SPDX') as typeof import('@cyclonedx/cyclonedx-library/SPDX'));

/**
 * The YAML front matter of a Hugging Face model card (README.md between two `---` lines):
 * license, base_model, datasets, pipeline_tag, language, tags, library_name and the
 * model-index evaluation results. Parsed with the `yaml` package, bounded in size, nesting and
 * aliases; a card whose YAML does not parse gives an error message, never a crash.
 */

const MAX_FRONT_MATTER = 1024 * 1024;
const MAX_NESTING = 64;
const MAX_LIST = 256;
const MAX_METRICS = 1000;

/** Hugging Face repository ids: `name` or `namespace/name`. */
export const HF_ID = /^(?:[A-Za-z0-9][\w.-]{0,95}\/)?[A-Za-z0-9][\w.-]{0,95}$/;

export interface CardMetric {
  type: string;
  value: string;
  slice?: string;
}

export interface ModelCard {
  /** SPDX ids where the card's license maps to one, else the card's license name. */
  licenses: string[];
  licenseLink?: string;
  baseModels: string[];
  baseModelRelation?: string;
  datasets: string[];
  pipelineTag?: string;
  languages: string[];
  tags: string[];
  libraryName?: string;
  metrics: CardMetric[];
  /** model-index[0].name */
  modelName?: string;
}

export type CardResult = { card: ModelCard } | { error: string } | { none: true };

/** The front matter of a README, or undefined when it has none. */
export function frontMatter(text: string): { yaml: string; line: number } | undefined {
  const t = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const m = /^---[ \t]*\r?\n/.exec(t);
  if (!m) return undefined;
  const rest = t.slice(m[0].length);
  const end = /^(?:---|\.\.\.)[ \t]*$/m.exec(rest);
  if (!end) return undefined;
  return { yaml: rest.slice(0, end.index), line: 2 };
}

function strings(v: unknown): string[] {
  const list = Array.isArray(v) ? v : v === undefined || v === null ? [] : [v];
  return list
    .filter((x): x is string | number => typeof x === 'string' || typeof x === 'number')
    .map((x) => String(x).trim())
    .filter((x) => x.length > 0 && x.length <= 256)
    .slice(0, MAX_LIST);
}

/** A card license (Hugging Face uses lowercase SPDX-like ids) as an SPDX id when it is one. */
export function normalizeLicense(id: string): string {
  return spdx().fixupSpdxId(id) ?? id;
}

export function parseModelCard(text: string): CardResult {
  const fm = frontMatter(text);
  if (!fm) return { none: true };
  if (fm.yaml.length > MAX_FRONT_MATTER) return { error: `front matter is over ${MAX_FRONT_MATTER} bytes` };
  // Flow collections nest by brackets; refuse deep nesting before the parser recurses into it.
  if (jsonDepth(fm.yaml, MAX_NESTING) > MAX_NESTING) return { error: `front matter nests deeper than ${MAX_NESTING} levels` };
  let data: unknown;
  try {
    // Bounded parse (src/util/yaml.ts): stops at the first syntax error, deep nesting is an error.
    const lineCounter = new (yaml().LineCounter)();
    const doc = parseYamlDocument(fm.yaml, { uniqueKeys: false, lineCounter });
    if (doc.errors.length) {
      const e = doc.errors[0]!;
      const line = lineAt(lineCounter, e.pos[0]) + fm.line - 1;
      return { error: `front matter is not valid YAML (line ${line}): ${e.message.split('\n')[0]}` };
    }
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    return { error: `front matter is not valid YAML: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}` };
  }
  if (data === null || data === undefined) return { none: true };
  if (!isObject(data)) return { error: 'front matter is not a YAML mapping' };
  return { card: mapCard(data) };
}

function mapCard(d: Record<string, unknown>): ModelCard {
  const card: ModelCard = { licenses: [], baseModels: [], datasets: [], languages: [], tags: [], metrics: [] };
  for (const l of strings(d.license)) {
    if (l === 'unknown') continue;
    if (l === 'other') {
      const name = strings(d.license_name)[0];
      card.licenses.push(name ?? 'other');
    } else card.licenses.push(normalizeLicense(l));
  }
  const link = strings(d.license_link)[0];
  if (link && /^https?:\/\//.test(link)) card.licenseLink = link;
  card.baseModels = strings(d.base_model).filter((b) => HF_ID.test(b));
  const rel = strings(d.base_model_relation)[0];
  if (rel) card.baseModelRelation = rel;
  card.datasets = strings(d.datasets).filter((x) => HF_ID.test(x));
  const task = strings(d.pipeline_tag)[0];
  if (task) card.pipelineTag = task;
  card.languages = strings(d.language);
  card.tags = strings(d.tags);
  const lib = strings(d.library_name)[0];
  if (lib) card.libraryName = lib;
  const index = Array.isArray(d['model-index']) ? d['model-index'] : [];
  for (const entry of index.slice(0, 16)) {
    if (!isObject(entry)) continue;
    if (card.modelName === undefined && typeof entry.name === 'string') card.modelName = entry.name.slice(0, 256);
    const results = Array.isArray(entry.results) ? entry.results : [];
    for (const r of results) {
      if (!isObject(r)) continue;
      const ds = isObject(r.dataset) ? r.dataset : {};
      const task = isObject(r.task) ? r.task : {};
      const dsName = strings(ds.name)[0] ?? strings(ds.type)[0];
      const split = strings(ds.split)[0];
      const taskName = strings(task.name)[0] ?? strings(task.type)[0];
      const slice = [dsName, split ? `(${split})` : undefined, taskName ? `— ${taskName}` : undefined].filter(Boolean).join(' ');
      const metrics = Array.isArray(r.metrics) ? r.metrics : [];
      for (const m of metrics) {
        if (!isObject(m) || card.metrics.length >= MAX_METRICS) continue;
        const type = strings(m.type)[0] ?? strings(m.name)[0];
        const value = typeof m.value === 'number' || typeof m.value === 'string' ? String(m.value).slice(0, 256) : undefined;
        if (!type || value === undefined) continue;
        const metric: CardMetric = { type, value };
        if (slice) metric.slice = slice;
        card.metrics.push(metric);
      }
    }
  }
  return card;
}
