/**
 * The registry's signing keys, as `npm audit signatures` reads them: `GET {registry}-/npm/v1/keys`
 * → `{ keys: [{ keyid, key (base64 SPKI DER), keytype, scheme, expires (ISO time or null) }] }`.
 * They verify publish attestations the registry signed with its own key (the bundle names the
 * key by `verificationMaterial.publicKey.hint` = keyid). Fetched at most once per run and
 * registry, bounded; a response that is not that shape is an error, never a partial key list.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { isObject, parseJsonText } from '../util/json.js';
import type { NpmRegistry } from './npm-config.js';
import { describeError, type GetOptions, getBounded } from './registry-http.js';

export const MAX_KEYS_BYTES = 256 * 1024;
const MAX_KEYS = 64;
/** Key types npm names and the curve each must be. */
const KEY_TYPES: Record<string, string> = { 'ecdsa-sha2-nistp256': 'prime256v1', 'ecdsa-sha2-nistp384': 'secp384r1' };

export interface RegistryKey {
  keyid: string;
  key: KeyObject;
  /** After this time the key signs nothing (a signature logged later is refused). */
  expires?: Date;
}

export type RegistryKeys = { keys: Map<string, RegistryKey> } | { error: string };

/** Parse the keys response; throws an Error saying what is wrong. */
export function parseRegistryKeys(body: Buffer): Map<string, RegistryKey> {
  const json = parseJsonText(body.toString('utf8'), 'the keys response', 16);
  if (!isObject(json) || !Array.isArray(json.keys)) throw new Error('the keys response has no "keys" list');
  if (json.keys.length > MAX_KEYS) throw new Error(`the keys response lists over ${MAX_KEYS} keys`);
  const out = new Map<string, RegistryKey>();
  for (const [i, k] of json.keys.entries()) {
    const where = `keys[${i}]`;
    if (!isObject(k)) throw new Error(`${where} is not an object`);
    const { keyid, key, keytype, expires } = k;
    if (typeof keyid !== 'string' || keyid === '' || keyid.length > 256) throw new Error(`${where}.keyid is not a string of 1 to 256 characters`);
    if (out.has(keyid)) throw new Error(`key id ${JSON.stringify(keyid)} is listed twice`);
    if (typeof key !== 'string' || key.length > 8192 || !/^[A-Za-z0-9+/]+={0,2}$/.test(key)) throw new Error(`${where}.key is not base64`);
    if (expires !== null && expires !== undefined && (typeof expires !== 'string' || Number.isNaN(Date.parse(expires)))) {
      throw new Error(`${where}.expires is neither a time nor null`);
    }
    const curve = typeof keytype === 'string' ? KEY_TYPES[keytype] : undefined;
    if (!curve) continue; // a key type aibom cannot use: left out (a bundle naming it does not verify)
    let pub: KeyObject;
    try {
      pub = createPublicKey({ key: Buffer.from(key, 'base64'), format: 'der', type: 'spki' });
    } catch {
      throw new Error(`${where}.key is not a public key (base64 SPKI DER)`);
    }
    if (pub.asymmetricKeyType !== 'ec' || pub.asymmetricKeyDetails?.namedCurve !== curve) throw new Error(`${where}.key is not an ${keytype} key`);
    const entry: RegistryKey = { keyid, key: pub };
    if (typeof expires === 'string') entry.expires = new Date(expires);
    out.set(keyid, entry);
  }
  return out;
}

/** Fetch and parse the registry's keys. Never throws: a failure is `{ error }` naming the endpoint. */
export async function fetchRegistryKeys(reg: NpmRegistry, o: Omit<GetOptions, 'max'>): Promise<RegistryKeys> {
  const url = `${reg.url}-/npm/v1/keys`;
  try {
    const body = await getBounded(url, reg, { max: MAX_KEYS_BYTES, ...o });
    if (!body) return { error: 'the registry publishes no signing keys (-/npm/v1/keys answered 404)' };
    return { keys: parseRegistryKeys(body) };
  } catch (err) {
    return { error: `the registry's signing keys (-/npm/v1/keys): ${describeError(err)}` };
  }
}
