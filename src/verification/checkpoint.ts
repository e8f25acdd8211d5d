/**
 * Which trusted log signed a checkpoint, per the signed-note and tlog-checkpoint specs (C2SP):
 * a signature line `— <key name> <base64(key ID || signature)>` is the log's when its key ID is
 * the log's checkpoint key ID (the trusted root's `checkpointKeyId`, else the first 4 bytes of
 * its `logId`) and the signature verifies with the log's key. The key name is the log's origin:
 * when the trusted root names it (a scheme-less `baseUrl`, as the spec allows) it must be that;
 * otherwise the key identifies the log, whatever its origin (private instances, e.g. sigstore
 * scaffolding, name their logs without reference to the URL clients use).
 *
 * @sigstore/verify instead requires the key name to be a substring of the log's base URL; the
 * names found here are handed to it as the log's names so its remaining checks (root hash,
 * inclusion proof) run unchanged.
 */
import { crypto as sigCrypto } from '@sigstore/core';
import type { TransparencyLogEntry } from '@sigstore/bundle';
import type { TrustMaterial } from '@sigstore/verify';

type Tlog = TrustMaterial['tlogs'][number];

const MAX_CHECKPOINT_BYTES = 64 * 1024;
const SIGNATURE_LINE = /^\u2014 (\S+) ([A-Za-z0-9+/=]+)$/;

/** Key names each trusted log verifiably signed in these entries' checkpoints. */
export function checkpointSigners(entries: readonly TransparencyLogEntry[], tlogs: readonly Tlog[], checkpointKeyIds: ReadonlyMap<Tlog, Buffer>): Map<Tlog, Set<string>> {
  const out = new Map<Tlog, Set<string>>();
  for (const e of entries) {
    const envelope = e.inclusionProof?.checkpoint?.envelope;
    if (typeof envelope !== 'string' || envelope.length > MAX_CHECKPOINT_BYTES) continue;
    const split = envelope.indexOf('\n\n');
    if (split < 0) continue;
    const note = Buffer.from(envelope.slice(0, split + 1), 'utf8');
    for (const line of envelope.slice(split + 2).split('\n')) {
      const m = SIGNATURE_LINE.exec(line);
      if (!m) continue;
      const name = m[1]!;
      const raw = Buffer.from(m[2]!, 'base64');
      if (raw.length < 5) continue;
      const hint = raw.subarray(0, 4);
      for (const t of tlogs) {
        const id = checkpointKeyIds.get(t) ?? t.logID.subarray(0, 4);
        if (!sigCrypto.bufferEqual(id.subarray(0, 4), hint)) continue;
        const origin = namedOrigin(t.baseURL);
        if (origin !== undefined && origin !== name) continue;
        let ok = false;
        try {
          ok = sigCrypto.verify(note, t.publicKey, raw.subarray(4));
        } catch {
          ok = false;
        }
        if (!ok) continue;
        let names = out.get(t);
        if (!names) out.set(t, (names = new Set()));
        names.add(name);
      }
    }
  }
  return out;
}

/** The origin a trusted root names for a log: its base URL when that is scheme-less. */
function namedOrigin(baseUrl: string): string | undefined {
  return baseUrl && !baseUrl.includes('://') ? baseUrl.replace(/\/+$/, '') : undefined;
}

/**
 * Trust material in which each log's base URL also carries the key names it verifiably signed
 * checkpoints under, or undefined when @sigstore/verify's own name check already holds.
 */
export function withCheckpointNames(material: TrustMaterial, signers: Map<Tlog, Set<string>>): TrustMaterial | undefined {
  let changed = false;
  const tlogs = material.tlogs.map((t) => {
    const names = [...(signers.get(t) ?? [])].filter((n) => !t.baseURL.includes(n));
    if (names.length === 0) return t;
    changed = true;
    return { ...t, baseURL: [t.baseURL, ...names].join('\n') };
  });
  return changed ? { ...material, tlogs } : undefined;
}
