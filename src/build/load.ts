import type { BuildAibomOptions } from './aibom.js';
import { AibomError } from '../errors.js';
import { pathKind } from '../util/fs.js';
import { readBomFile } from '../bom/read.js';

export interface LoadedBom {
  /** The BOM JSON. */
  bom: Record<string, unknown>;
  /** The file it came from, or the folder it was built from. */
  source: string;
  builtFromDir: boolean;
}

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
  return { bom: await readBomFile(pathArg), source: pathArg, builtFromDir: false };
}
