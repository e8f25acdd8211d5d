import { npmParser } from './npm.js';
import { pnpmParser } from './pnpm.js';
import { pipenvParser } from './python/pipenv.js';
import { poetryParser } from './python/poetry.js';
import { requirementsParser } from './python/requirements.js';
import { uvParser } from './python/uv.js';
import type { LockfileParser } from './types.js';
import { yarnParser } from './yarn.js';

/**
 * Every lockfile parser aibom knows. A parser claims files by basename; the first match wins.
 * Add new formats here.
 */
export const LOCKFILE_PARSERS: LockfileParser[] = [
  npmParser,
  pnpmParser,
  requirementsParser,
  poetryParser,
  uvParser,
  pipenvParser,
  yarnParser,
];

export function parserFor(basename: string): LockfileParser | undefined {
  return LOCKFILE_PARSERS.find((p) => p.matches(basename));
}

export type { LockfileKind, LockfileParser, LockPackage, ParsedLockfile } from './types.js';
