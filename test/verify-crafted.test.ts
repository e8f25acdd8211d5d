/**
 * Bundles built by hand in the test (key-signed, no log entries), to reach what real signers
 * do not produce: statements that break the in-toto schema, DSSE payloads that are not
 * statements, inconsistent or hostile model_signing predicates, several subjects, and
 * message signatures with every key type and digest algorithm, verified by path and by digest.
 * The fixtures compute PAE and digests themselves, independently of aibom's code.
 *
 * Verdicts are checked in-process (test/helpers/verify-in-process.ts: the CLI's library calls,
 * its exit code and its stdout); a few cases also run `aibom verify` as a process, for the exit
 * codes and the printed verdict as a user sees them.
 */
import { createHash, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from './helpers/cli.js';
import { verifyEnv } from './helpers/verify.js';
import { verifyInProcess } from './helpers/verify-in-process.js';

let tmp: { dir: string; cleanup: () => Promise<void> };
let cache: string;
let n = 0;

const keys = {
  p256: generateKeyPairSync('ec', { namedCurve: 'P-256' }),
  p384: generateKeyPairSync('ec', { namedCurve: 'P-384' }),
  rsa: generateKeyPairSync('rsa', { modulusLength: 2048 }),
  ed25519: generateKeyPairSync('ed25519'),
};
type KeyName = keyof typeof keys;
const pubFile: Record<string, string> = {};

beforeAll(async () => {
  tmp = await tempDir('aibom-verify-crafted-');
  cache = join(tmp.dir, 'cache');
  await mkdir(cache);
  for (const [name, pair] of Object.entries(keys)) {
    pubFile[name] = join(tmp.dir, `${name}.pub`);
    await writeFile(pubFile[name]!, pair.publicKey.export({ type: 'spki', format: 'pem' }));
  }
});
afterAll(async () => {
  await tmp?.cleanup();
});

const verify = (args: string[]) => verifyInProcess(args, verifyEnv(cache));
const verifyCli = (args: string[]) => runCli(['verify', ...args], { env: verifyEnv(cache) });
const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

function paeBytes(type: string, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`DSSEv1 ${Buffer.byteLength(type)} ${type} ${body.length} `), body]);
}

function signWith(key: KeyObject, data: Buffer, hash: string | null): Buffer {
  return sign(key.asymmetricKeyType === 'ed25519' ? null : hash, data, key);
}

async function dsseBundle(statement: unknown, opts: { key?: KeyName; payloadType?: string; hash?: string } = {}): Promise<string> {
  const payloadType = opts.payloadType ?? 'application/vnd.in-toto+json';
  const payload = Buffer.from(typeof statement === 'string' ? statement : JSON.stringify(statement));
  const sig = signWith(keys[opts.key ?? 'p256'].privateKey, paeBytes(payloadType, payload), opts.hash ?? 'sha256');
  const bundle = {
    mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
    verificationMaterial: { publicKey: { hint: 'test-key' }, tlogEntries: [] },
    dsseEnvelope: { payload: payload.toString('base64'), payloadType, signatures: [{ sig: sig.toString('base64'), keyid: '' }] },
  };
  const f = join(tmp.dir, `dsse-${++n}.json`);
  await writeFile(f, JSON.stringify(bundle));
  return f;
}

async function messageBundle(data: Buffer, key: KeyName, hash: 'sha256' | 'sha384' | 'sha512' = 'sha256'): Promise<string> {
  const sig = signWith(keys[key].privateKey, data, hash);
  const bundle = {
    mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
    verificationMaterial: { publicKey: { hint: 'test-key' }, tlogEntries: [] },
    messageSignature: {
      messageDigest: { algorithm: { sha256: 'SHA2_256', sha384: 'SHA2_384', sha512: 'SHA2_512' }[hash], digest: createHash(hash).update(data).digest('base64') },
      signature: sig.toString('base64'),
    },
  };
  const f = join(tmp.dir, `msg-${++n}.json`);
  await writeFile(f, JSON.stringify(bundle));
  return f;
}

async function artifact(content: string): Promise<string> {
  const f = join(tmp.dir, `artifact-${++n}.bin`);
  await writeFile(f, content);
  return f;
}

const statement = (subjects: Array<{ name: string; sha256: string }>, extra: Record<string, unknown> = {}) => ({
  _type: 'https://in-toto.io/Statement/v1',
  subject: subjects.map((s) => ({ name: s.name, digest: { sha256: s.sha256 } })),
  predicateType: 'https://slsa.dev/provenance/v1',
  predicate: { buildDefinition: {} },
  ...extra,
});

describe('DSSE statements', () => {
  it('any subject of a statement with many verifies; a file that is none fails', async () => {
    const files = await Promise.all(['a', 'b', 'c'].map((x) => artifact(`release ${x}\n`)));
    const b = await dsseBundle(statement(['a', 'b', 'c'].map((x, i) => ({ name: `file-${i}`, sha256: sha256(`release ${x}\n`) }))));
    for (const f of files) expect((await verifyCli([f, '--bundle', b, '--key', pubFile.p256!])).code).toBe(0);
    expect((await verifyCli([`sha256:${sha256('release b\n')}`, '--bundle', b, '--key', pubFile.p256!])).code).toBe(0);
    const other = await verifyCli([await artifact('release d\n'), '--bundle', b, '--key', pubFile.p256!, '--json']);
    expect(other.code).toBe(1);
    expect(JSON.parse(other.stdout).reason).toBe('digest-mismatch');
  });

  it('subjects named by sha512 or sha3_256 digests match the file', async () => {
    const content = 'other algorithms\n';
    const f = await artifact(content);
    for (const [alg, node] of [
      ['sha512', 'sha512'],
      ['sha3_256', 'sha3-256'],
    ]) {
      const st = { ...statement([]), subject: [{ name: 'x', digest: { [alg!]: createHash(node!).update(content).digest('hex') } }] };
      const b = await dsseBundle(st);
      const r = await verify([f, '--bundle', b, '--key', pubFile.p256!]);
      expect(r.code, `${alg}: ${r.stdout}`).toBe(0);
      // A sha256 digest cannot match a statement that only names another algorithm.
      expect((await verify([`sha256:${sha256(content)}`, '--bundle', b, '--key', pubFile.p256!])).code).toBe(1);
    }
    const b512 = await dsseBundle({ ...statement([]), subject: [{ digest: { sha512: createHash('sha512').update(content).digest('hex') } }] });
    expect((await verify([`sha512:${createHash('sha512').update(content).digest('hex')}`, '--bundle', b512, '--key', pubFile.p256!])).code).toBe(0);
  });

  it('P-384 and Ed25519 DSSE signatures verify', async () => {
    const f = await artifact('curve\n');
    const st = statement([{ name: 'x', sha256: sha256('curve\n') }]);
    expect((await verify([f, '--bundle', await dsseBundle(st, { key: 'p384', hash: 'sha384' }), '--key', pubFile.p384!])).code).toBe(0);
    expect((await verify([f, '--bundle', await dsseBundle(st, { key: 'ed25519' }), '--key', pubFile.ed25519!])).code).toBe(0);
  });

  it('statements that break the in-toto Statement v1 schema are refused as malformed', async () => {
    const f = await artifact('schema\n');
    const good = statement([{ name: 'x', sha256: sha256('schema\n') }]);
    const cases: Array<[unknown, RegExp]> = [
      [{ ...good, predicateType: undefined }, /must have required property 'predicateType'/],
      [{ ...good, subject: [] }, /\/subject: must NOT have fewer than 1 items/],
      [{ ...good, subject: [{ name: 'x', digest: { sha256: sha256('schema\n').toUpperCase() } }] }, /\/subject\/0\/digest\/sha256: must match pattern/],
      [{ ...good, subject: [{ name: 'x', uri: 'https://example.test/x' }] }, /\/subject\/0: must have required property 'digest'/],
      [{ ...good, predicate: 'not an object' }, /\/predicate: must be object/],
      [{ ...good, predicateType: 'not a uri' }, /\/predicateType: must match pattern/],
      [{ ...good, _type: 'https://in-toto.io/Statement/v0.2' }, /_type .*Statement\/v0\.2.*aibom reads https:\/\/in-toto\.io\/Statement\/v1 and https:\/\/in-toto\.io\/Statement\/v0\.1/],
      [{ ...good, _type: 'https://in-toto.io/Statement/v0.1', subject: [{ name: 'x' }] }, /\/subject\/0: must have required property 'digest'/],
      ['{"_type": "https://in-toto.io/Statement/v1", "subject": [', /not valid JSON/],
      ['[]', /not a valid in-toto statement/],
    ];
    for (const [st, msg] of cases) {
      const r = await verify([f, '--bundle', await dsseBundle(st), '--key', pubFile.p256!, '--json']);
      expect(r.code, String(msg)).toBe(1);
      const j = JSON.parse(r.stdout);
      expect(j.reason, String(msg)).toBe('malformed');
      expect(j.error, String(msg)).toMatch(msg);
    }
  });

  it('in-toto Statement v0.1 (cosign, npm provenance, SLSA v0.2) verifies like v1, subjects in any in-toto digest algorithm', async () => {
    const content = 'v0.1 statement\n';
    const f = await artifact(content);
    const h = (alg: string) => createHash(alg).update(content).digest('hex');
    const v01 = (digest: Record<string, string>) => ({
      _type: 'https://in-toto.io/Statement/v0.1',
      subject: [{ name: 'pkg:npm/x@1.0.0', digest }],
      predicateType: 'https://slsa.dev/provenance/v0.2',
      predicate: { builder: { id: 'https://example.test/builder' } },
    });
    const ok: Array<Record<string, string>> = [
      { sha512: h('sha512') },
      { sha384: h('sha384') },
      { sha3_256: h('sha3-256') },
      { sha512_256: h('sha512-256') },
      { blake2b: h('blake2b512') },
      { sha256: h('sha256'), sha512: h('sha512'), gitCommit: 'a'.repeat(40) },
    ];
    for (const digest of ok) {
      const b = await dsseBundle(v01(digest));
      const r = await verify([f, '--bundle', b, '--key', pubFile.p256!, '--json']);
      expect(r.code, JSON.stringify(digest)).toBe(0);
    }
    // By digest too, in the algorithm the subject names.
    expect((await verify([`sha512:${h('sha512')}`, '--bundle', await dsseBundle(v01({ sha512: h('sha512') })), '--key', pubFile.p256!])).code).toBe(0);
    // The strongest digest both sides have decides: a matching sha256 beside a wrong sha512 is not this file.
    const mixed = await verify([f, '--bundle', await dsseBundle(v01({ sha256: h('sha256'), sha512: 'f'.repeat(128) })), '--key', pubFile.p256!, '--json']);
    expect(mixed.code).toBe(1);
    expect(JSON.parse(mixed.stdout).reason).toBe('digest-mismatch');
    // md5 and sha1 alone never bind an artifact, and say so.
    const weak = await verify([f, '--bundle', await dsseBundle(v01({ sha1: h('sha1'), md5: h('md5') })), '--key', pubFile.p256!, '--json']);
    expect(weak.code).toBe(1);
    expect(JSON.parse(weak.stdout).error).toMatch(/md5 and sha1 digests do not bind an artifact/);
    // Digest names that are Object.prototype members are data, not lookups.
    const proto = await verify([f, '--bundle', await dsseBundle(v01({ constructor: 'x', toString: 'y', sha512: h('sha512') })), '--key', pubFile.p256!]);
    expect(proto.code).toBe(0);
  });

  it('verify --bundle reads JSON Lines (gh attestation download): any line may verify; a failure names each line', async () => {
    const content = 'json lines\n';
    const f = await artifact(content);
    const other = statement([{ name: 'other', sha256: sha256('other\n') }]);
    const mine = statement([{ name: 'mine', sha256: sha256(content) }]);
    const line = async (st: unknown, key: KeyName = 'p256') => JSON.stringify(JSON.parse(await readFile(await dsseBundle(st, { key }), 'utf8')));
    const lines = [await line(other), '', JSON.stringify({ bundle: JSON.parse(await line(mine)) }), await line(other)];
    const file = join(tmp.dir, 'attestations.jsonl');
    await writeFile(file, `${lines.join('\n')}\n`);
    const r = await verify([f, '--bundle', file, '--key', pubFile.p256!, '--json']);
    expect(r.code, r.stdout).toBe(0);
    expect(JSON.parse(r.stdout).bundle).toBe(`${file}:3`);
    // None verifies: each line's reason, by line number (blank lines counted), the signature failure first.
    const bad = [await line(other), await line(mine, 'p384'), '{"mediaType": 1}'];
    const badFile = join(tmp.dir, 'bad.jsonl');
    await writeFile(badFile, bad.join('\n'));
    const b = await verify([f, '--bundle', badFile, '--key', pubFile.p256!, '--json']);
    expect(b.code).toBe(1);
    const j = JSON.parse(b.stdout);
    expect(j.reason).toBe('signature');
    expect(j.error).toMatch(/none of the 3 bundles in .*bad\.jsonl verifies: line 1: digest-mismatch: .*; line 2: signature: .*; line 3: malformed: bundle has no mediaType/);
    // The text verdict says the same.
    const t = await verifyCli([f, '--bundle', badFile, '--key', pubFile.p256!]);
    expect(t.stdout).toMatch(/^FAILED .*: signature: none of the 3 bundles .* line 2: signature/);
  });

  it('a model_signing v0.2 signature is refused with the reason and the command that re-signs', async () => {
    const dir = join(tmp.dir, 'v02-model');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'weights.bin'), 'w');
    // v0.2's DigestsIntotoPayload shape: one subject per file, no serialization parameters.
    const st = {
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ name: 'weights.bin', digest: { sha256: sha256('w') } }],
      predicateType: 'https://model_signing/Digests/v0.1',
      predicate: {},
    };
    await writeFile(join(dir, 'model.sig'), await readFile(await dsseBundle(st)));
    const r = await verify([dir, '--key', pubFile.p256!, '--json']);
    expect(r.code).toBe(1);
    const j = JSON.parse(r.stdout);
    expect(j.reason).toBe('unsupported');
    expect(j.error).toMatch(/pre-1\.0 \(v0\.2\) format .*records no serialization/);
    expect(j.error).toContain(`\`aibom sign ${dir}\``);
    expect(j.error).toContain(`\`model_signing sign sigstore ${dir}\``);
  });

  it('unknown statement fields are ignored, as the spec requires', async () => {
    const f = await artifact('extra\n');
    const st = { ...statement([{ name: 'x', sha256: sha256('extra\n') }]), extension: { x: 1 } };
    expect((await verify([f, '--bundle', await dsseBundle(st), '--key', pubFile.p256!])).code).toBe(0);
  });

  it('a DSSE payload that is not an in-toto statement cannot be tied to an artifact', async () => {
    const f = await artifact('other\n');
    const r = await verify([f, '--bundle', await dsseBundle('{"hello": 1}', { payloadType: 'application/json' }), '--key', pubFile.p256!, '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).reason).toBe('unsupported');
  });

  it('a DSSE envelope with two signatures is refused', async () => {
    const f = await artifact('two\n');
    const b = JSON.parse(await readFile(await dsseBundle(statement([{ name: 'x', sha256: sha256('two\n') }])), 'utf8'));
    b.dsseEnvelope.signatures.push(b.dsseEnvelope.signatures[0]);
    const p = join(tmp.dir, 'two-sigs.json');
    await writeFile(p, JSON.stringify(b));
    const r = await verify([f, '--bundle', p, '--key', pubFile.p256!]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('malformed');
  });
});

describe('model_signing predicates that must be refused', () => {
  async function model(): Promise<{ dir: string; resources: Array<{ name: string; algorithm: string; digest: string }> }> {
    const dir = join(tmp.dir, `model-${++n}`);
    await mkdir(dir);
    await writeFile(join(dir, 'a.bin'), 'A');
    await writeFile(join(dir, 'b.bin'), 'B');
    return {
      dir,
      resources: [
        { name: 'a.bin', algorithm: 'sha256', digest: sha256('A') },
        { name: 'b.bin', algorithm: 'sha256', digest: sha256('B') },
      ],
    };
  }
  const rootDigest = (rs: Array<{ digest: string }>) => createHash('sha256').update(Buffer.concat(rs.map((r) => Buffer.from(r.digest, 'hex')))).digest('hex');
  const msStatement = (name: string, digest: string, serialization: Record<string, unknown>, resources: unknown[]) => ({
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name, digest: { sha256: digest } }],
    predicateType: 'https://model_signing/signature/v1.0',
    predicate: { serialization, resources },
  });
  const files = { method: 'files', hash_type: 'sha256', allow_symlinks: false };

  it('a consistent hand-made signature verifies (the fixture is right)', async () => {
    const m = await model();
    const b = await dsseBundle(msStatement('m', rootDigest(m.resources), files, m.resources));
    const r = await verify([m.dir, '--bundle', b, '--key', pubFile.p256!]);
    expect(r.code, r.stdout).toBe(0);
  });

  it('a subject digest that is not the digest of the listed resources', async () => {
    const m = await model();
    const r = await verify([m.dir, '--bundle', await dsseBundle(msStatement('m', sha256('x'), files, m.resources)), '--key', pubFile.p256!]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('model signature is inconsistent');
  });

  it('shards serialization and other hash types are reported as unsupported', async () => {
    const m = await model();
    for (const ser of [{ ...files, method: 'shards', shard_size: 1000 }, { ...files, hash_type: 'blake2' }]) {
      const r = await verify([m.dir, '--bundle', await dsseBundle(msStatement('m', rootDigest(m.resources), ser, m.resources)), '--key', pubFile.p256!, '--json']);
      expect(r.code).toBe(1);
      expect(JSON.parse(r.stdout).reason).toBe('unsupported');
      expect(JSON.parse(r.stdout).error).toMatch(/aibom verifies/);
    }
  });

  it('resource names that escape the folder, and duplicates', async () => {
    const m = await model();
    for (const bad of [
      [{ name: '../b.bin', algorithm: 'sha256', digest: sha256('B') }],
      [{ name: '/etc/passwd', algorithm: 'sha256', digest: sha256('B') }],
      [m.resources[0], m.resources[0]],
    ]) {
      const r = await verify([m.dir, '--bundle', await dsseBundle(msStatement('m', rootDigest(bad as Array<{ digest: string }>), files, bad)), '--key', pubFile.p256!]);
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(/not a relative path inside the model|twice/);
    }
  });

  it('paths the signer recorded in ignore_paths are left out when verifying', async () => {
    const m = await model();
    await mkdir(join(m.dir, 'logs'));
    await writeFile(join(m.dir, 'logs', 'train.log'), 'not signed');
    const st = msStatement('m', rootDigest(m.resources), { ...files, ignore_paths: ['logs'] }, m.resources);
    expect((await verify([m.dir, '--bundle', await dsseBundle(st), '--key', pubFile.p256!])).code).toBe(0);
    const without = msStatement('m', rootDigest(m.resources), files, m.resources);
    expect((await verify([m.dir, '--bundle', await dsseBundle(without), '--key', pubFile.p256!])).code).toBe(1);
  });
});

describe('message signatures: every key type, by path and by digest', () => {
  it('ECDSA P-256/P-384 and RSA verify by digest too (signature over the prehashed digest)', async () => {
    for (const [key, hash] of [
      ['p256', 'sha256'],
      ['p384', 'sha384'],
      ['p384', 'sha256'],
      ['rsa', 'sha256'],
      ['rsa', 'sha512'],
    ] as const) {
      const content = `message ${key} ${hash}\n`;
      const f = await artifact(content);
      const b = await messageBundle(Buffer.from(content), key, hash);
      const byPath = await verify([f, '--bundle', b, '--key', pubFile[key]!]);
      expect(byPath.code, `${key}/${hash} path: ${byPath.stdout}`).toBe(0);
      const digest = `${hash}:${createHash(hash).update(content).digest('hex')}`;
      const byDigest = await verify([digest, '--bundle', b, '--key', pubFile[key]!]);
      expect(byDigest.code, `${key}/${hash} digest: ${byDigest.stdout}`).toBe(0);
      // A digest of other bytes fails; so does the right digest under another key.
      const wrong = await verify([`${hash}:${createHash(hash).update('other').digest('hex')}`, '--bundle', b, '--key', pubFile[key]!]);
      expect(wrong.code).toBe(1);
      const otherKey = key === 'rsa' ? 'p256' : 'rsa';
      expect((await verify([digest, '--bundle', b, '--key', pubFile[otherKey]!])).code).toBe(1);
    }
  });

  it('a file over 64 MiB is hashed as a stream and checked over its digest; one changed byte fails', async () => {
    const big = Buffer.alloc(64 * 1024 * 1024 + 4096, 7);
    const f = join(tmp.dir, 'big.bin');
    await writeFile(f, big);
    const b = await messageBundle(big, 'p256');
    const r = await verify([f, '--bundle', b, '--key', pubFile.p256!, '--json']);
    expect(r.code, r.stdout).toBe(0);
    expect(JSON.parse(r.stdout).target.sha256).toBe(sha256(big));
    big[big.length - 1] = 8;
    await writeFile(f, big);
    const t = await verify([f, '--bundle', b, '--key', pubFile.p256!, '--json']);
    expect(t.code).toBe(1);
    expect(JSON.parse(t.stdout).reason).toBe('digest-mismatch');
  });

  it('a sha256 digest against a bundle that signed a sha384 digest says to give the file', async () => {
    const content = 'sha384 bundle\n';
    const b = await messageBundle(Buffer.from(content), 'p384', 'sha384');
    const r = await verify([`sha256:${sha256(content)}`, '--bundle', b, '--key', pubFile.p384!, '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).reason).toBe('unsupported');
    expect(JSON.parse(r.stdout).error).toContain('give the file instead');
  });

  it('Ed25519 message signatures verify by path; by digest they cannot, and say so', async () => {
    const content = 'ed25519\n';
    const f = await artifact(content);
    const b = await messageBundle(Buffer.from(content), 'ed25519');
    expect((await verify([f, '--bundle', b, '--key', pubFile.ed25519!])).code).toBe(0);
    const r = await verifyCli([`sha256:${sha256(content)}`, '--bundle', b, '--key', pubFile.ed25519!, '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ reason: 'unsupported' });
    expect(JSON.parse(r.stdout).error).toContain("verify with the artifact's path");
  });
});
