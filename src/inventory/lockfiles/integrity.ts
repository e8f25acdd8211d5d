import type { Hash, HashAlg } from '../types.js';

const SRI_ALGS: Record<string, HashAlg> = {
  sha1: 'SHA-1',
  sha256: 'SHA-256',
  sha384: 'SHA-384',
  sha512: 'SHA-512',
  md5: 'MD5',
};

const HEX_LEN: Record<HashAlg, number> = {
  MD5: 32,
  'SHA-1': 40,
  'SHA-256': 64,
  'SHA-384': 96,
  'SHA-512': 128,
  'SHA3-256': 64,
  'SHA3-384': 96,
  'SHA3-512': 128,
};

/**
 * Subresource-integrity strings ("sha512-<base64> sha1-<base64>") to CycloneDX hashes.
 * Unknown algorithms and malformed digests are dropped (never guessed).
 */
export function hashesFromSri(integrity: string | undefined): Hash[] {
  if (!integrity) return [];
  const out: Hash[] = [];
  for (const part of integrity.trim().split(/\s+/)) {
    const dash = part.indexOf('-');
    if (dash < 0) continue;
    const alg = SRI_ALGS[part.slice(0, dash).toLowerCase()];
    if (!alg) continue;
    const b64 = part.slice(dash + 1).replace(/\?[\s\S]*$/, '');
    if (!/^[A-Za-z0-9+/_-]+=*$/.test(b64)) continue;
    const hex = Buffer.from(b64, 'base64').toString('hex');
    if (hex.length !== HEX_LEN[alg]) continue;
    pushUnique(out, { alg, content: hex });
  }
  return out;
}

/** "sha256:abc..." / "sha256=abc..." / bare hex with a known algorithm name. */
export function hashFromPrefixed(value: string | undefined, sep: ':' | '=' | 'any' = 'any'): Hash | undefined {
  if (!value) return undefined;
  const m = /^([A-Za-z0-9-]+)[:=]([0-9a-fA-F]+)$/.exec(value.trim());
  if (!m) return undefined;
  if (sep !== 'any' && !value.includes(sep)) return undefined;
  return hashFromHex(m[1]!, m[2]!);
}

export function hashFromHex(algName: string, hex: string): Hash | undefined {
  const alg = normalizeAlg(algName);
  if (!alg) return undefined;
  const h = hex.toLowerCase();
  if (!/^[0-9a-f]+$/.test(h) || h.length !== HEX_LEN[alg]) return undefined;
  return { alg, content: h };
}

export function normalizeAlg(name: string): HashAlg | undefined {
  const n = name.toLowerCase().replace(/[-_]/g, '');
  switch (n) {
    case 'md5':
      return 'MD5';
    case 'sha1':
      return 'SHA-1';
    case 'sha256':
      return 'SHA-256';
    case 'sha384':
      return 'SHA-384';
    case 'sha512':
      return 'SHA-512';
    case 'sha3256':
      return 'SHA3-256';
    case 'sha3384':
      return 'SHA3-384';
    case 'sha3512':
      return 'SHA3-512';
    default:
      return undefined;
  }
}

export function pushUnique(list: Hash[], h: Hash): void {
  if (!list.some((x) => x.alg === h.alg && x.content === h.content)) list.push(h);
}
