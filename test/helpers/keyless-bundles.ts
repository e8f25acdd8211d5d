/**
 * Bench and test input: many keyless Sigstore bundles (v0.3, as `aibom sign` writes them) made
 * quickly against the loopback stack, with their artifacts, the trusted root to verify them
 * with, and a JSON Lines file for `aibom verify --batch`.
 *
 * Speed: one Fulcio certificate for the whole run (one identity signing many artifacts within
 * the certificate's ten minutes, as a release job does), one Rekor entry per bundle, requests
 * a few at a time. 200 bundles take a few seconds.
 *
 * As a library:  const out = await makeKeylessBundles(stack, { dir, count: 200 });
 * As a script:   node --import tsx test/helpers/keyless-bundles.ts OUT_DIR [COUNT] [--tsa] [--dsse]
 *   writes OUT_DIR/{artifacts/, bundles/, trusted_root.json, batch.jsonl, manifest.json}; the
 *   stack is stopped afterwards (verification is offline).
 */
import { createHash, generateKeyPairSync, randomBytes, sign as cryptoSign } from 'node:crypto';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  DSSEBundleBuilder,
  FulcioSigner,
  MessageSignatureBundleBuilder,
  RekorWitness,
  type Signature,
  type Signer,
  TSAWitness,
  type Witness,
} from '@sigstore/sign';
import { toV03Json } from '../../src/signature/bundle-builder.js';
import { type SigstoreStack, startSigstoreStack } from './sigstore-stack.js';

export interface KeylessBundleOptions {
  /** Output folder (created). */
  dir: string;
  count: number;
  /** Certificate identity (the token's sub); default stack.defaultSubject. */
  identity?: string;
  /** Also ask the TSA for a signed timestamp per bundle (default: the Rekor entry's time only). */
  tsa?: boolean;
  /** DSSE (in-toto statement over the artifact) instead of message signatures. */
  dsse?: boolean;
  /** Requests in flight at once. */
  concurrency?: number;
  /** Bytes per artifact (default 4 KiB). */
  artifactBytes?: number;
}

export interface KeylessBundleEntry {
  artifact: string;
  bundle: string;
  sha256: string;
}

export interface KeylessBundles {
  dir: string;
  trustedRootPath: string;
  batchPath: string;
  identity: string;
  issuer: string;
  entries: KeylessBundleEntry[];
}

/** A signer holding one ephemeral key and one Fulcio certificate for all its signatures. */
export class OneCertificateSigner implements Signer {
  private readonly keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  private cert: Promise<string> | undefined;

  constructor(
    private readonly fulcioUrl: string,
    private readonly token: string,
  ) {}

  private keyHolder(): Signer {
    const publicKey = this.keys.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    return {
      sign: async (data: Buffer): Promise<Signature> => ({
        signature: cryptoSign('sha256', data, this.keys.privateKey),
        key: { $case: 'publicKey', publicKey },
      }),
    };
  }

  async sign(data: Buffer): Promise<Signature> {
    this.cert ??= new FulcioSigner({
      fulcioBaseURL: this.fulcioUrl,
      identityProvider: { getToken: async () => this.token },
      keyHolder: this.keyHolder(),
    })
      .sign(Buffer.from('certificate request'))
      .then((s) => {
        if (s.key.$case !== 'x509Certificate') throw new Error('Fulcio returned no certificate');
        return s.key.certificate;
      });
    const certificate = await this.cert;
    return { signature: cryptoSign('sha256', data, this.keys.privateKey), key: { $case: 'x509Certificate', certificate } };
  }
}

export async function makeKeylessBundles(stack: SigstoreStack, options: KeylessBundleOptions): Promise<KeylessBundles> {
  const dir = resolve(options.dir);
  const identity = options.identity ?? stack.defaultSubject;
  await mkdir(join(dir, 'artifacts'), { recursive: true });
  await mkdir(join(dir, 'bundles'), { recursive: true });
  const signer = new OneCertificateSigner(stack.urls.fulcio, stack.mintToken({ sub: identity }));
  const witnesses: Witness[] = [new RekorWitness({ rekorBaseURL: stack.urls.rekor, entryType: 'dsse' })];
  if (options.tsa) witnesses.push(new TSAWitness({ tsaBaseURL: stack.urls.tsa }));
  const message = new MessageSignatureBundleBuilder({ signer, witnesses });
  const dsse = new DSSEBundleBuilder({ signer, witnesses, certificateChain: false });
  const entries: KeylessBundleEntry[] = new Array(options.count);
  const width = String(Math.max(options.count - 1, 0)).length;
  let next = 0;
  const worker = async () => {
    while (next < options.count) {
      const i = next++;
      const name = `artifact-${String(i).padStart(width, '0')}.bin`;
      const artifact = join(dir, 'artifacts', name);
      const data = Buffer.concat([Buffer.from(`${name}\n`), randomBytes(options.artifactBytes ?? 4096)]);
      const sha256 = createHash('sha256').update(data).digest('hex');
      await writeFile(artifact, data);
      const bundle = options.dsse
        ? await dsse.create({
            data: Buffer.from(
              JSON.stringify({
                _type: 'https://in-toto.io/Statement/v1',
                subject: [{ name, digest: { sha256 } }],
                predicateType: 'https://example.com/bench/v1',
                predicate: {},
              }),
            ),
            type: 'application/vnd.in-toto+json',
          })
        : await message.create({ data });
      const bundlePath = join(dir, 'bundles', `${name}.sigstore.json`);
      await writeFile(bundlePath, `${JSON.stringify(toV03Json(bundle))}\n`);
      entries[i] = { artifact, bundle: bundlePath, sha256 };
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency ?? 8, options.count)) }, worker));
  const trustedRootPath = join(dir, 'trusted_root.json');
  await copyFile(stack.trustedRootPath, trustedRootPath);
  const batchPath = join(dir, 'batch.jsonl');
  await writeFile(
    batchPath,
    entries
      .map((e) =>
        JSON.stringify({
          artifact: relative(dir, e.artifact),
          bundle: relative(dir, e.bundle),
          certificateIdentity: identity,
          certificateOidcIssuer: stack.urls.oidc,
          trustedRoot: 'trusted_root.json',
        }),
      )
      .join('\n')
      .concat('\n'),
  );
  const out: KeylessBundles = { dir, trustedRootPath, batchPath, identity, issuer: stack.urls.oidc, entries };
  await writeFile(join(dir, 'manifest.json'), `${JSON.stringify(out, null, 2)}\n`);
  return out;
}

// Run as a script: make the bundles, keep them, stop the stack.
if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const args = process.argv.slice(2);
  const positional = args.filter((a) => !a.startsWith('--'));
  const outDir = positional[0];
  const count = Number(positional[1] ?? 200);
  if (!outDir || !Number.isInteger(count) || count < 1) {
    process.stderr.write('usage: node --import tsx test/helpers/keyless-bundles.ts OUT_DIR [COUNT] [--tsa] [--dsse]\n');
    process.exit(2);
  }
  const stack = await startSigstoreStack();
  try {
    const started = Date.now();
    const made = await makeKeylessBundles(stack, { dir: outDir, count, tsa: args.includes('--tsa'), dsse: args.includes('--dsse') });
    process.stdout.write(
      `${JSON.stringify({ dir: made.dir, count: made.entries.length, batch: made.batchPath, trustedRoot: made.trustedRootPath, identity: made.identity, issuer: made.issuer, seconds: (Date.now() - started) / 1000 })}\n`,
    );
  } finally {
    await stack.close();
  }
}
