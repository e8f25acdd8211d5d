import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const TOOL_NAME = 'aibom';

function readVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === TOOL_NAME && pkg.version) return pkg.version;
    } catch {
      // keep looking upwards
    }
    dir = dirname(dir);
  }
  return '0.0.0';
}

/** aibom's own version, from its package.json. */
export const TOOL_VERSION = readVersion();
