import type { BuildAibomOptions } from './aibom.js';
import { AibomError } from '../errors.js';
import { pathKind, readTextBounded } from '../util/fs.js';
import { isObject, parseJsonText } from '../util/json.js';

export interface LoadedBom {
  /** The BOM JSON. */
  bom: Record<string, unknown>;
  /** The file it came from, or the folder it was built from. */
  source: string;
  builtFromDir: boolean;
}

const MAX_BOM_BYTES = 256 * 1024 * 1024;

/**
 * A BOM to report on: read from a CycloneDX JSON file, or built in memory from a folder
 * (nothing is written) exactly as `aibom build --reproducible` builds it. A file that is not
 * CycloneDX JSON, or a folder with an input that cannot be read, is an input error.
 */
export async function loadOrBuildBom(pathArg: string, options: Omit<BuildAibomOptions, 'reproducible'> = {}): Promise<LoadedBom> {
  const kind = await pathKind(pathArg);
  if (kind === 'missing') throw new AibomError('INPUT', 'no such file or folder', { file: pathArg });
  if (kind === 'dir') {
    // The same build as `aibom build --reproducible` (src/build/aibom.ts): an unreadable input is an error.
    const { buildAibom } = await import('./aibom.js');
    const { bom } = await buildAibom(pathArg, { ...options, reproducible: true });
    return { bom, source: pathArg, builtFromDir: true };
  }
  const data = parseJsonText(await readTextBounded(pathArg, MAX_BOM_BYTES, pathArg), pathArg);
  if (!isObject(data) || data.bomFormat !== 'CycloneDX') {
    throw new AibomError('INPUT', 'not a CycloneDX JSON BOM (no "bomFormat": "CycloneDX")', { file: pathArg });
  }
  return { bom: data, source: pathArg, builtFromDir: false };
}
