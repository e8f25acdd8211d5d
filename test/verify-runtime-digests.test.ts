/**
 * The start-up check (`aibom/runtime`, verify-plugins) hands verification a file target with its
 * bytes and only the sha256 digest it computed. A statement whose subjects name the file in
 * another algorithm (npm provenance: sha512 only, in-toto Statement v0.1) must still match: the
 * digests the subjects name are computed from the bytes at hand, and the strongest decides.
 */
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { describe, expect, it } from 'vitest';
import { parseBundle } from '../src/verification/bundle.js';
import { makeTrustContext, verifyPrepared } from '../src/verification/verify.js';

const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const ctx = makeTrustContext({
  root: TrustedRoot.fromJSON({ mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1', tlogs: [], certificateAuthorities: [], ctlogs: [], timestampAuthorities: [] }),
  source: 'file',
  location: 'test',
});

function bundleFor(statement: unknown): Buffer {
  const payloadType = 'application/vnd.in-toto+json';
  const payload = Buffer.from(JSON.stringify(statement));
  const pae = Buffer.concat([Buffer.from(`DSSEv1 ${payloadType.length} ${payloadType} ${payload.length} `), payload]);
  return Buffer.from(
    JSON.stringify({
      mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
      verificationMaterial: { publicKey: { hint: 'k' }, tlogEntries: [] },
      dsseEnvelope: { payload: payload.toString('base64'), payloadType, signatures: [{ sig: sign('sha256', pae, pair.privateKey).toString('base64'), keyid: '' }] },
    }),
  );
}

describe('runtime-style file targets (bytes + sha256 only)', () => {
  it('a v0.1 statement naming the file by sha512 only verifies; another file does not', () => {
    const bom = Buffer.from('{"bomFormat":"CycloneDX"}');
    const st = {
      _type: 'https://in-toto.io/Statement/v0.1',
      subject: [{ name: 'aibom.cdx.json', digest: { sha512: createHash('sha512').update(bom).digest('hex') } }],
      predicateType: 'https://slsa.dev/provenance/v0.2',
      predicate: {},
    };
    const loaded = parseBundle(bundleFor(st), 'bom.sigstore.json');
    const policy = { kind: 'key' as const, key: pair.publicKey, keyFile: 'k.pub' };
    const target = (bytes: Buffer) => {
      const sha256 = createHash('sha256').update(bytes).digest();
      return { kind: 'file' as const, name: 'aibom.cdx.json', sha256: sha256.toString('hex'), digests: { sha256 }, bytes };
    };
    const ok = verifyPrepared(ctx, loaded, target(bom), policy);
    expect(ok.error).toBeUndefined();
    expect(ok.verified).toBe(true);
    const other = verifyPrepared(ctx, loaded, target(Buffer.from('{"bomFormat":"CycloneDX","x":1}')), policy);
    expect(other.verified).toBe(false);
    expect(other.reason).toBe('digest-mismatch');
    expect(other.error).toMatch(/digests in sha512/);
  });
});
