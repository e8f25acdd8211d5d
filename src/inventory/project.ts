import { basename, join } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { isAibomError } from '../errors.js';
import { readTextBounded } from '../util/fs.js';
import { isObject, parseJsonText } from '../util/json.js';
import { npmPurl, pypiPurl } from './purl.js';
import type { Component, Finding } from './types.js';

const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

/**
 * The project itself (the BOM's metadata.component): from package.json, else
 * pyproject.toml ([project] or [tool.poetry]), else the folder's name.
 */
export async function readProject(dir: string, findings: Finding[], display = '.'): Promise<Component> {
  const fromPkg = await tryManifest(join(dir, 'package.json'), rel(display, 'package.json'), findings, (text, file) => {
    const doc = parseJsonText(text, file);
    if (!isObject(doc) || typeof doc.name !== 'string' || !doc.name) return undefined;
    return {
      name: doc.name,
      version: typeof doc.version === 'string' ? doc.version : undefined,
      description: typeof doc.description === 'string' ? doc.description : undefined,
      license: typeof doc.license === 'string' ? doc.license : undefined,
      purl: npmPurl(doc.name, typeof doc.version === 'string' ? doc.version : undefined),
      file,
    };
  });
  const found =
    fromPkg ??
    (await tryManifest(join(dir, 'pyproject.toml'), rel(display, 'pyproject.toml'), findings, (text, file) => {
      let doc: Record<string, unknown>;
      try {
        doc = parseToml(text) as Record<string, unknown>;
      } catch (err) {
        throw new Error(`not valid TOML: ${(err as Error).message.split('\n')[0]}`);
      }
      const project = isObject(doc.project) ? doc.project : undefined;
      const poetry = isObject(doc.tool) && isObject(doc.tool.poetry) ? doc.tool.poetry : undefined;
      const src = project && typeof project.name === 'string' ? project : poetry;
      if (!src || typeof src.name !== 'string') return undefined;
      const version = typeof src.version === 'string' ? src.version : undefined;
      const lic = src.license;
      return {
        name: src.name,
        version,
        description: typeof src.description === 'string' ? src.description : undefined,
        license: typeof lic === 'string' ? lic : isObject(lic) && typeof lic.text === 'string' ? lic.text : undefined,
        purl: pypiPurl(src.name, version),
        file,
      };
    }));
  if (!found) {
    const name = basename(dir) || 'project';
    return { ref: `project:${name}`, type: 'application', name, hashes: [], properties: [], locations: [] };
  }
  const comp: Component = {
    ref: found.purl,
    type: 'application',
    name: found.name,
    purl: found.purl,
    hashes: [],
    properties: [],
    locations: [{ file: found.file }],
  };
  // CycloneDX caps a version at 1,024 characters; no real one comes near.
  if (found.version && found.version.length > 1024) {
    findings.push({
      code: 'manifest-invalid',
      severity: 'low',
      message: `the project's version is longer than 1,024 characters; left out`,
      location: { file: found.file },
    });
  } else if (found.version) comp.version = found.version;
  if (found.description) comp.description = found.description;
  if (found.license) comp.licenses = [found.license];
  return comp;
}

function rel(display: string, name: string): string {
  return display === '.' || display === '' ? name : `${display}/${name}`;
}

interface ManifestFacts {
  name: string;
  version: string | undefined;
  description: string | undefined;
  license: string | undefined;
  purl: string;
  file: string;
}

async function tryManifest(
  abs: string,
  display: string,
  findings: Finding[],
  read: (text: string, file: string) => ManifestFacts | undefined,
): Promise<ManifestFacts | undefined> {
  let text: string;
  try {
    text = await readTextBounded(abs, MAX_MANIFEST_BYTES, display);
  } catch (err) {
    if (isAibomError(err) && err.code === 'INPUT' && /no such file/.test(err.message)) return undefined;
    findings.push({ code: 'manifest-unreadable', severity: 'low', message: errMsg(err), location: { file: display } });
    return undefined;
  }
  try {
    return read(text, display);
  } catch (err) {
    findings.push({ code: 'manifest-unreadable', severity: 'low', message: errMsg(err), location: { file: display } });
    return undefined;
  }
}

function errMsg(err: unknown): string {
  return isAibomError(err) ? err.message : err instanceof Error ? err.message : String(err);
}
