/**
 * A loopback npm registry (real HTTP on 127.0.0.1) for provenance tests and benches: packuments
 * (`GET /{name}`, with `time`), attestations (`GET /-/npm/v1/attestations/{name}@{version}`),
 * the registry's signing keys (`GET /-/npm/v1/keys`, as `npm audit signatures` reads them), an
 * optional bearer token, and failures on demand (per package; for the keys endpoint a flood, a
 * hang or garbage). Provenance bundles are signed through the loopback Sigstore stack
 * (`signNpmProvenance`), with GitHub-style certificate claims; publish attestations keyless
 * (`signNpmPublishKeyless`) or with a registry key logged in the stack's Rekor (`signNpmPublishWithKey`).
 */
import { createHash, createPublicKey as createPublicKeyFrom, generateKeyPairSync, type KeyObject, sign as cryptoSign } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { IN_TOTO_PAYLOAD_TYPE } from '../../src/attestation/dsse.js';
import { makeStatement, statementBytes } from '../../src/attestation/statement.js';
import { DSSEBundleBuilder, RekorWitness } from '@sigstore/sign';
import { createBundle, toV03Json } from '../../src/signature/bundle-builder.js';
import { resolveSigningIdentity } from '../../src/signature/identity.js';
import { type GithubJob, githubTokenClaims } from './github-claims.js';
import { OneCertificateSigner } from './keyless-bundles.js';
import type { SigstoreStack } from './sigstore-stack.js';

export interface RegistryPackage {
  name: string;
  version: string;
  /** ISO time the version was published. */
  published: string;
  /** The attestations response body (`{ attestations: [...] }`); none: 404. */
  attestations?: unknown;
}

export type KeysBehaviour = 'serve' | 'flood' | 'hang' | 'garbage' | 'not-found';

export interface NpmRegistryServer {
  url: string;
  requests: { attestations: number; packument: number; unauthorized: number; keys: number };
  /** name → HTTP status to answer with (every request for it). */
  failWith: Map<string, number>;
  /** What `/-/npm/v1/keys` does: serve the keys, stream an endless body, never answer, answer non-JSON, 404. */
  keysBehaviour: KeysBehaviour;
  close(): Promise<void>;
}

function answerKeys(how: KeysBehaviour, keys: unknown[], res: import('node:http').ServerResponse, send: (status: number, body: unknown) => void): void {
  if (how === 'serve' || how === 'not-found') {
    send(how === 'serve' ? 200 : 404, how === 'serve' ? { keys } : { error: 'not found' });
    return;
  }
  if (how === 'garbage') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('<html>{"keys": [</html>');
    return;
  }
  if (how === 'hang') return; // headers never sent; the client's timeout must end it
  // flood: a body that never ends (stops when the client goes away, or after 64 MiB)
  res.writeHead(200, { 'content-type': 'application/json' });
  const chunk = Buffer.alloc(64 * 1024, 0x20);
  let sent = 0;
  const pump = () => {
    while (sent < 1024 && !res.destroyed) {
      sent++;
      if (!res.write(chunk)) return void res.once('drain', pump);
    }
    res.end();
  };
  res.write('{"keys":[');
  pump();
}

export async function startNpmRegistry(pkgs: RegistryPackage[], opts: { token?: string; keys?: unknown[] } = {}): Promise<NpmRegistryServer> {
  const byName = new Map<string, RegistryPackage[]>();
  for (const p of pkgs) byName.set(p.name, [...(byName.get(p.name) ?? []), p]);
  const requests = { attestations: 0, packument: 0, unauthorized: 0, keys: 0 };
  const failWith = new Map<string, number>();
  const state = { keysBehaviour: 'serve' as KeysBehaviour };
  const hanging = new Set<import('node:http').ServerResponse>();
  const server: Server = createServer((req, res) => {
    const send = (status: number, body: unknown) => {
      const data = Buffer.from(JSON.stringify(body));
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': data.length });
      res.end(data);
    };
    if (opts.token && req.headers.authorization !== `Bearer ${opts.token}`) {
      requests.unauthorized++;
      return send(401, { error: 'unauthorized' });
    }
    const path = decodeURIComponent((req.url ?? '/').split('?')[0]!);
    if (path === '/-/npm/v1/keys') {
      requests.keys++;
      if (state.keysBehaviour === 'hang') hanging.add(res);
      return answerKeys(state.keysBehaviour, opts.keys ?? [], res, send);
    }
    const att = /^\/-\/npm\/v1\/attestations\/(.+)@([^@/]+)$/.exec(path);
    if (att) {
      requests.attestations++;
      const fail = failWith.get(att[1]!);
      if (fail) return send(fail, { error: 'injected' });
      const p = byName.get(att[1]!)?.find((x) => x.version === att[2]);
      return p?.attestations ? send(200, p.attestations) : send(404, { error: 'not found' });
    }
    requests.packument++;
    const name = path.slice(1);
    const fail = failWith.get(name);
    if (fail) return send(fail, { error: 'injected' });
    const versions = byName.get(name);
    if (!versions) return send(404, { error: 'not found' });
    return send(200, {
      name,
      versions: Object.fromEntries(versions.map((v) => [v.version, { name, version: v.version }])),
      time: Object.fromEntries(versions.map((v) => [v.version, v.published])),
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    requests,
    failWith,
    get keysBehaviour() {
      return state.keysBehaviour;
    },
    set keysBehaviour(v: KeysBehaviour) {
      state.keysBehaviour = v;
    },
    close: () =>
      new Promise<void>((r) => {
        for (const h of hanging) h.destroy();
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/**
 * An npm-style SLSA provenance attestation (DSSE, in-toto Statement v1) over the given
 * packages, signed keyless through the stack as a GitHub job. One statement may name many
 * packages (benches); npm's own name one.
 */
export async function signNpmProvenance(stack: SigstoreStack, job: GithubJob, subjects: Array<{ name: string; version: string; sha512: string }>): Promise<unknown> {
  const identity = await resolveSigningIdentity({ identityToken: stack.mintToken(githubTokenClaims(job)), signingConfig: stack.signingConfigPath, env: {} });
  const statement = makeStatement(
    subjects.map((s) => ({ name: `pkg:npm/${s.name}@${s.version}`, digest: { sha512: s.sha512 } })),
    'https://slsa.dev/provenance/v1',
    {
      buildDefinition: { buildType: 'https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1', externalParameters: { workflow: { repository: `https://github.com/${job.repository ?? 'acme/agent'}` } } },
      runDetails: { builder: { id: 'https://github.com/actions/runner/github-hosted' } },
    },
  );
  const bundle = await createBundle({ kind: 'dsse', payload: statementBytes(statement), payloadType: IN_TOTO_PAYLOAD_TYPE }, identity);
  return { attestations: [{ predicateType: 'https://slsa.dev/provenance/v1', bundle }] };
}

/**
 * Many npm provenance attestations (one statement per package, as npm's), fast: one Fulcio
 * certificate for all of them, one Rekor entry each, a few at a time (benches).
 */
export async function signNpmProvenanceMany(
  stack: SigstoreStack,
  job: GithubJob,
  subjects: Array<{ name: string; version: string; sha512: string }>,
  concurrency = 16,
): Promise<unknown[]> {
  const signer = new OneCertificateSigner(stack.urls.fulcio, stack.mintToken(githubTokenClaims(job)));
  const builder = new DSSEBundleBuilder({ signer, witnesses: [new RekorWitness({ rekorBaseURL: stack.urls.rekor, entryType: 'dsse' })], certificateChain: false });
  const out: unknown[] = new Array(subjects.length);
  let next = 0;
  const worker = async () => {
    while (next < subjects.length) {
      const i = next++;
      const s = subjects[i]!;
      const statement = makeStatement([{ name: `pkg:npm/${s.name}@${s.version}`, digest: { sha512: s.sha512 } }], 'https://slsa.dev/provenance/v1', {
        buildDefinition: { buildType: 'https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1', externalParameters: {} },
        runDetails: { builder: { id: 'https://github.com/actions/runner/github-hosted' } },
      });
      const bundle = await builder.create({ data: statementBytes(statement), type: IN_TOTO_PAYLOAD_TYPE });
      out[i] = { attestations: [{ predicateType: 'https://slsa.dev/provenance/v1', bundle: toV03Json(bundle) }] };
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, subjects.length)) }, worker));
  return out;
}

export const PUBLISH_PREDICATE_TYPE = 'https://github.com/npm/attestation/tree/main/specs/publish/v0.1';

export interface PublishSubject {
  name: string;
  version: string;
  sha512: string;
  /** What the predicate says (default: name and version of the subject). */
  predicate?: { name: string; version: string };
}

/** npm's publish attestation statement (in-toto Statement v0.1, as the registry writes it). */
function publishStatement(s: PublishSubject): Buffer {
  return Buffer.from(
    JSON.stringify({
      _type: 'https://in-toto.io/Statement/v0.1',
      subject: [{ name: `pkg:npm/${s.name}@${s.version}`, digest: { sha512: s.sha512 } }],
      predicateType: PUBLISH_PREDICATE_TYPE,
      predicate: { name: s.predicate?.name ?? s.name, version: s.predicate?.version ?? s.version, registry: 'https://registry.test' },
    }),
  );
}

/** A publish attestation signed keyless through the stack (as the registry's older ones). */
export async function signNpmPublishKeyless(stack: SigstoreStack, s: PublishSubject): Promise<{ predicateType: string; bundle: unknown }> {
  const identity = await resolveSigningIdentity({ identityToken: stack.mintToken({ sub: 'npm-registry@example.test', email: 'npm-registry@example.test', email_verified: true }), signingConfig: stack.signingConfigPath, env: {} });
  const bundle = await createBundle({ kind: 'dsse', payload: publishStatement(s), payloadType: IN_TOTO_PAYLOAD_TYPE }, identity);
  return { predicateType: PUBLISH_PREDICATE_TYPE, bundle };
}

/** A registry signing key and its entry in `/-/npm/v1/keys`. */
export interface RegistryKeyPair {
  keyid: string;
  privateKey: KeyObject;
  served: { keyid: string; key: string; keytype: string; scheme: string; expires: string | null };
}

export function makeRegistryKey(expires: string | null = null): RegistryKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const der = publicKey.export({ type: 'spki', format: 'der' });
  const keyid = `SHA256:${createHash('sha256').update(der).digest('base64').replace(/=+$/, '')}`;
  return { keyid, privateKey, served: { keyid, key: der.toString('base64'), keytype: 'ecdsa-sha2-nistp256', scheme: 'ecdsa-sha2-nistp256', expires } };
}

/** A publish attestation signed with a registry key (bundle hint = keyid), logged in the stack's Rekor. */
export async function signNpmPublishWithKey(stack: SigstoreStack, key: RegistryKeyPair, s: PublishSubject, hint = key.keyid): Promise<{ predicateType: string; bundle: unknown }> {
  const publicKey = createPublicKeyPem(key.privateKey);
  const signer = { sign: async (data: Buffer) => ({ signature: cryptoSign('sha256', data, key.privateKey), key: { $case: 'publicKey' as const, publicKey, hint } }) };
  const builder = new DSSEBundleBuilder({ signer, witnesses: [new RekorWitness({ rekorBaseURL: stack.urls.rekor, entryType: 'dsse' })] });
  const bundle = await builder.create({ data: publishStatement(s), type: IN_TOTO_PAYLOAD_TYPE });
  return { predicateType: PUBLISH_PREDICATE_TYPE, bundle: toV03Json(bundle) };
}

function createPublicKeyPem(privateKey: KeyObject): string {
  return createPublicKeyFrom(privateKey).export({ type: 'spki', format: 'pem' }).toString();
}
