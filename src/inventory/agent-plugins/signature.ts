import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { isAgentPluginsDoc } from './manifest.js';

/**
 * Where an Agent Plugins package carries aibom's signature. The spec leaves the top level of a
 * package to its own files and gives vendors reverse-domain extension folders (§8.2), so
 * `aibom sign DIR` writes the model_signing bundle to `DIR/dev.aibom/model.sig`. The bundle is
 * left out of the folder digest (a signature cannot cover itself); every other file, in
 * `dev.aibom/` too, is covered. Build, verify-plugins, the start-up hook and gate find it there
 * through the BOM's `aibom:signature-bundle`.
 */
export const SIGNATURE_DIR = 'dev.aibom';
export const SIGNATURE_FILE = 'model.sig';

const MAX_MANIFEST_BYTES = 1024 * 1024;

/** Does DIR hold a root `plugin.json` carrying an agent-plugins.org `$schema` (read without following links)? */
export function isAgentPluginsFolder(dir: string): boolean {
  let fd: number;
  try {
    fd = openSync(join(dir, 'plugin.json'), constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0));
  } catch {
    return false;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.size > MAX_MANIFEST_BYTES) return false;
    const buf = Buffer.alloc(st.size);
    let off = 0;
    while (off < buf.length) {
      const n = readSync(fd, buf, off, buf.length - off, off);
      if (n === 0) break;
      off += n;
    }
    const text = buf.subarray(0, off).toString('utf8');
    return isAgentPluginsDoc(JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text));
  } catch {
    return false;
  } finally {
    closeSync(fd);
  }
}

/** The default bundle of a signed folder: `dev.aibom/model.sig` for an Agent Plugins package, else `model.sig`. */
export function defaultFolderBundle(dir: string): string {
  return isAgentPluginsFolder(dir) ? join(dir, SIGNATURE_DIR, SIGNATURE_FILE) : join(dir, SIGNATURE_FILE);
}
