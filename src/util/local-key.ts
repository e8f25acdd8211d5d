/**
 * A secret of this user on this machine, kept in aibom's state folder (not in any cache
 * folder): caches that stand in for verification carry an HMAC under it, so a cache file that
 * was edited, or restored from elsewhere (a CI cache another job wrote), does not authenticate
 * and is not used. Made on first use (32 random bytes, mode 0600, folder 0700); refused when
 * the file or its folder belongs to someone else or others can write them.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { unsafeOwnership } from './owner.js';

const FILE = 'cache.key';
const BYTES = 32;

export type LocalKey = { key: Buffer } | { error: string };

export async function localKey(dir: string): Promise<LocalKey> {
  const file = join(dir, FILE);
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const bad = unsafeOwnership(await stat(dir));
    if (bad) return { error: `${dir}: ${bad}` };
    try {
      await writeFile(file, randomBytes(BYTES), { mode: 0o600, flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const st = await stat(file);
    const badFile = unsafeOwnership(st);
    if (badFile) return { error: `${file}: ${badFile}` };
    if (!st.isFile() || st.size !== BYTES) return { error: `${file}: not a ${BYTES}-byte key file` };
    return { key: await readFile(file) };
  } catch (err) {
    return { error: `${file}: ${(err as Error).message}` };
  }
}

export function hmacHex(key: Buffer, text: string): string {
  return createHmac('sha256', key).update(text).digest('hex');
}
