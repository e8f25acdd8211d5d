import { join, posix } from 'node:path';
import { readTextBounded } from '../../util/fs.js';
import type { WalkResult } from '../walk.js';
import type { Launcher } from './launch.js';

/**
 * Registry and index settings in files beside an MCP client config: npx, uvx and pipx read
 * them from the folder the client starts them in (the project), so a pinned `pkg@1.2.3` still
 * comes from wherever `.npmrc` or `uv.toml` points. Looked for in the config's folder and
 * every folder above it up to the scanned root. Read as text with anchored line patterns:
 * enough to tell that a file moves the source, never a full parse of untrusted settings.
 */

const MAX_SETTINGS_BYTES = 256 * 1024;

interface SettingsFile {
  name: string;
  family: 'npm' | 'python';
  /** Does this text move where packages come from? */
  moves: (text: string) => boolean;
}

const FILES: SettingsFile[] = [
  { name: '.npmrc', family: 'npm', moves: (t) => /^[ \t]*(@[^\s:=]+:)?registry[ \t]*=|^[ \t]*replace-registry-host[ \t]*=/m.test(t) },
  { name: '.yarnrc.yml', family: 'npm', moves: (t) => /^[ \t]*(npmRegistryServer|npmScopes|npmPublishRegistry)[ \t]*:/m.test(t) },
  { name: '.yarnrc', family: 'npm', moves: (t) => /^[ \t]*"?(@[^\s:"]+:)?registry"?[ \t]/m.test(t) },
  { name: 'bunfig.toml', family: 'npm', moves: (t) => /^[ \t]*registry[ \t]*=|^\[install\.scopes\]/m.test(t) },
  { name: 'uv.toml', family: 'python', moves: (t) => /^[ \t]*(index-url|extra-index-url|find-links|default-index)[ \t]*=|^\[\[index\]\]|^[ \t]*index[ \t]*=/m.test(t) },
  {
    name: 'pyproject.toml',
    family: 'python',
    moves: (t) => /^\[\[?tool\.uv(\.index)?\]\]?/m.test(t) && /^[ \t]*(index-url|extra-index-url|find-links|default-index|url)[ \t]*=|^\[\[tool\.uv\.index\]\]/m.test(t),
  },
  { name: 'pip.conf', family: 'python', moves: (t) => /^[ \t]*(index-url|extra-index-url|find-links|index)[ \t]*=/m.test(t) },
  { name: 'pip.ini', family: 'python', moves: (t) => /^[ \t]*(index-url|extra-index-url|find-links|index)[ \t]*=/m.test(t) },
];

export interface SourceSettings {
  /** Why npm-family launchers do not fetch from the default registry, if they do not. */
  npm?: string;
  /** Why uvx / pipx do not fetch from the default index, if they do not. */
  python?: string;
}

/** Reads each folder's settings once per build. */
export class SourceSettingsReader {
  private readonly files: Set<string>;
  private readonly byDir = new Map<string, Promise<SourceSettings>>();

  constructor(private readonly walked: WalkResult) {
    this.files = new Set(walked.files.map((f) => f.rel));
  }

  /** Settings that apply to servers of the config at `configRel` (its folder, then up to the root). */
  async forConfig(configRel: string): Promise<SourceSettings> {
    const out: SourceSettings = {};
    let dir = posix.dirname(configRel);
    if (dir === '.') dir = '';
    for (;;) {
      const s = await this.forDir(dir);
      out.npm ??= s.npm;
      out.python ??= s.python;
      if (dir === '') break;
      const up = posix.dirname(dir);
      dir = up === '.' ? '' : up;
    }
    return out;
  }

  private forDir(dir: string): Promise<SourceSettings> {
    let hit = this.byDir.get(dir);
    if (!hit) {
      hit = this.read(dir);
      this.byDir.set(dir, hit);
    }
    return hit;
  }

  private async read(dir: string): Promise<SourceSettings> {
    const out: SourceSettings = {};
    for (const f of FILES) {
      if (out[f.family]) continue;
      const rel = dir ? `${dir}/${f.name}` : f.name;
      if (!this.files.has(rel)) continue;
      let text: string;
      try {
        text = await readTextBounded(join(this.walked.root, ...rel.split('/')), MAX_SETTINGS_BYTES, rel);
      } catch {
        // Unreadable or too large: it may say anything.
        out[f.family] = `${rel} (unreadable) may set another ${f.family === 'npm' ? 'registry' : 'index'}`;
        continue;
      }
      if (f.moves(text)) out[f.family] = `${rel} sets another ${f.family === 'npm' ? 'registry' : 'index'}: the version does not pin the content`;
    }
    return out;
  }
}

/** The family of a launcher whose packages come from a registry. */
export function familyOf(launcher: Launcher): 'npm' | 'python' | undefined {
  if (launcher === 'npx' || launcher === 'npm-exec' || launcher === 'pnpm-dlx' || launcher === 'yarn-dlx' || launcher === 'bunx') return 'npm';
  if (launcher === 'uvx' || launcher === 'pipx') return 'python';
  return undefined;
}
