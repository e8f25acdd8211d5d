import { readTextBounded } from '../../util/fs.js';
import type { WalkedFile } from '../walk.js';

/**
 * Where a model folder came from, when the folder itself says so:
 * - the Hugging Face hub cache layout `models--<namespace>--<name>/snapshots/<commit>/`
 *   (huggingface_hub's cache: `from_pretrained`, `snapshot_download`), which names the
 *   repository and the commit;
 * - download metadata that `huggingface-cli download --local-dir` writes under
 *   `.cache/huggingface/download/<file>.metadata` (`.huggingface/download/` in older
 *   versions): the commit of each file and its ETag, which for LFS files is the file's
 *   SHA-256 at download time. It does not name the repository; a model card's model-index
 *   name of the form `namespace/name` is used for that when present.
 */

export interface HubOrigin {
  namespace?: string;
  name: string;
  commit?: string;
  how: 'hub-cache' | 'download-metadata';
}

export interface DownloadMetadata {
  /** Commits named by the metadata files (one, when the folder is one consistent snapshot). */
  commits: string[];
  /** File path (relative to the model folder) → SHA-256 recorded at download (LFS files only). */
  sha256: Map<string, string>;
}

const COMMIT = /^[0-9a-f]{40}$/;
const SNAPSHOT = /(?:^|\/)models--([^/]+)\/snapshots\/([^/]+)$/;

/** The hub cache layout, from the folder's path (relative to the scanned root). */
export function hubCacheOrigin(folderRel: string): HubOrigin | undefined {
  const m = SNAPSHOT.exec(folderRel);
  if (!m) return undefined;
  const parts = m[1]!.split('--');
  if (parts.length > 2 || parts.some((p) => !/^[A-Za-z0-9][\w.-]*$/.test(p))) return undefined;
  const origin: HubOrigin = parts.length === 2 ? { namespace: parts[0]!, name: parts[1]!, how: 'hub-cache' } : { name: parts[0]!, how: 'hub-cache' };
  if (COMMIT.test(m[2]!)) origin.commit = m[2]!;
  return origin;
}

/** Is this path (relative to the root) inside a hub cache repository folder (`models--x--y/...`)? */
export function hubCacheRepo(rel: string): string | undefined {
  const m = /^(.*?(?:^|\/)models--[^/]+)(?:\/|$)/.exec(rel);
  return m ? m[1] : undefined;
}

const METADATA_DIRS = ['.cache/huggingface/download/', '.huggingface/download/'];

/** Read the local-dir download metadata among a folder's files (paths relative to the folder). */
export async function readDownloadMetadata(files: Array<{ rel: string; file: WalkedFile }>): Promise<DownloadMetadata | undefined> {
  const commits = new Set<string>();
  const sha256 = new Map<string, string>();
  let seen = 0;
  for (const { rel, file } of files) {
    const dir = METADATA_DIRS.find((d) => rel.startsWith(d));
    if (!dir || !rel.endsWith('.metadata')) continue;
    if (++seen > 100_000) break;
    let text: string;
    try {
      text = await readTextBounded(file.abs, 4096, rel);
    } catch {
      continue;
    }
    const [commit, etag] = text.split(/\r?\n/).map((l) => l.trim());
    if (!commit || !COMMIT.test(commit)) continue;
    commits.add(commit);
    const target = rel.slice(dir.length, -'.metadata'.length);
    const tag = etag?.replace(/^W\//, '').replace(/"/g, '').toLowerCase();
    if (tag && /^[0-9a-f]{64}$/.test(tag)) sha256.set(target, tag);
  }
  if (commits.size === 0) return undefined;
  return { commits: [...commits].sort(), sha256 };
}
