/**
 * A loopback npm registry (real HTTP on 127.0.0.1) for provenance tests and benches: packuments
 * (`GET /{name}`, with `time`) and attestations (`GET /-/npm/v1/attestations/{name}@{version}`),
 * an optional bearer token, and failures on demand. Provenance bundles are signed through the
 * loopback Sigstore stack (`signNpmProvenance`), with GitHub-style certificate claims.
 */
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

export interface NpmRegistryServer {
  url: string;
  requests: { attestations: number; packument: number; unauthorized: number };
  /** name → HTTP status to answer with (every request for it). */
  failWith: Map<string, number>;
  close(): Promise<void>;
}

export async function startNpmRegistry(pkgs: RegistryPackage[], opts: { token?: string } = {}): Promise<NpmRegistryServer> {
  const byName = new Map<string, RegistryPackage[]>();
  for (const p of pkgs) byName.set(p.name, [...(byName.get(p.name) ?? []), p]);
  const requests = { attestations: 0, packument: 0, unauthorized: 0 };
  const failWith = new Map<string, number>();
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
    close: () => new Promise<void>((r) => server.close(() => r())),
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
