/**
 * A local Sigstore stack on 127.0.0.1 for tests and benches: @sigstore/mock's CA (+ CT log),
 * Rekor (v1 and v2 APIs), and TSA behind real `http.createServer` sockets, plus an OIDC token
 * issuer that answers like the GitHub Actions token endpoint, plus a trusted root and a
 * SigningConfig built from their keys and written to a temp folder.
 *
 *   const stack = await startSigstoreStack();
 *   stack.urls.{fulcio, rekor, tsa, oidc}; stack.trustedRootPath; stack.signingConfigPath;
 *   const token = stack.mintToken({ sub: 'https://github.com/o/r/.github/workflows/x.yml@refs/heads/main' });
 *   await stack.close();
 *
 * Where the mocks differ from the real services, the fixture makes them behave like the real
 * ones (never product code):
 *  - Fulcio: the mock decodes the identity token without checking it. Here the token must be
 *    signed by this stack's issuer key, unexpired and for audience `sigstore`, and the proof of
 *    possession must verify, as real Fulcio requires; the SAN is the `email` claim when the
 *    token has one (verified), else `sub`.
 *  - Rekor v1: the mock stores a `dsse` entry as proposed (`spec.proposedContent`); real Rekor
 *    stores the canonical form (`envelopeHash`, `payloadHash`, `signatures[{signature,
 *    verifier}]`), which is what verifiers compare against. The fixture canonicalizes DSSE
 *    entries (after checking the envelope signature) before the mock logs them.
 *  - TSA: genTime without milliseconds (the mock's encoding of them is not one verifiers parse).
 *  - Rekor v2: the mock logs the create-entry *request* as the body; real Rekor v2 logs an
 *    `Entry` (`dsseV002` / `hashedRekordV002`). The fixture builds that Entry and answers with a
 *    TransparencyLogEntry whose inclusion proof and checkpoint are over it.
 *
 * Only for tests: keys are generated per stack and nothing here is a product default.
 */
import {
  createHash,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  sign as cryptoSign,
  verify as cryptoVerify,
  X509Certificate,
} from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  fulcioHandler,
  type HandlerFn,
  initializeCA,
  initializeCTLog,
  initializeTLog,
  initializeTSA,
  rekorHandler,
  tsaHandler,
} from '@sigstore/mock';
import { CreateEntryRequest, Entry } from '@sigstore/protobuf-specs/rekor/v2';

type Json = Record<string, unknown>;

export interface TokenClaims {
  sub?: string;
  iss?: string;
  aud?: string | string[];
  email?: string;
  email_verified?: boolean;
  /** Seconds since the epoch; default now + 10 minutes. */
  exp?: number;
  iat?: number;
  nbf?: number;
  [claim: string]: unknown;
}

export interface StackRequestCounts {
  fulcio: number;
  rekor: number;
  rekorV2: number;
  tsa: number;
  oidc: number;
}

export interface SigstoreStack {
  urls: {
    fulcio: string;
    rekor: string;
    tsa: string;
    /** The OIDC issuer (base URL, serves discovery + JWKS). */
    oidc: string;
    /** GitHub Actions style token endpoint: GET ?audience=… with `Authorization: bearer <request token>`. */
    oidcTokenRequest: string;
  };
  /** The temp folder holding the files below; removed by close(). */
  dir: string;
  trustedRootPath: string;
  /** SigningConfig v0.2 (Fulcio, Rekor v1, TSA). */
  signingConfigPath: string;
  /** SigningConfig v0.2 with Rekor v2 (majorApiVersion 2) and the TSA. */
  signingConfigRekorV2Path: string;
  /** SigningConfig v0.1 (caUrl, oidcUrl, tlogUrls, tsaUrls). */
  signingConfigV01Path: string;
  trustedRoot: Json;
  signingConfig: Json;
  /** The default identity (SAN) tokens get when no `sub` is given. */
  defaultSubject: string;
  /** Bearer secret the token endpoint requires (ACTIONS_ID_TOKEN_REQUEST_TOKEN). */
  actionsRequestToken: string;
  /** Mint an identity token Fulcio here accepts. `iss` defaults to urls.oidc, `aud` to sigstore. */
  mintToken(claims?: TokenClaims): string;
  /**
   * Environment variables that make a process look like a GitHub Actions job with
   * `id-token: write`: ACTIONS_ID_TOKEN_REQUEST_URL/_TOKEN. The endpoint mints tokens with
   * these claims (audience taken from the request, as GitHub does).
   */
  githubActionsEnv(claims?: TokenClaims): { ACTIONS_ID_TOKEN_REQUEST_URL: string; ACTIONS_ID_TOKEN_REQUEST_TOKEN: string };
  /** How many requests each service answered (any status). */
  requests: StackRequestCounts;
  close(): Promise<void>;
}

export interface StackOptions {
  /** Where to write the trusted root and signing configs (default: a fresh temp folder). */
  dir?: string;
}

const MAX_BODY = 64 * 1024 * 1024;
const DEFAULT_SUBJECT = 'https://github.com/aibom-test/release/.github/workflows/release.yml@refs/heads/main';

interface Reply {
  status: number;
  body: string | Uint8Array;
  type?: string;
}

const json = (status: number, value: unknown): Reply => ({ status, body: JSON.stringify(value), type: 'application/json' });
const grpcError = (status: number, code: number, message: string): Reply => json(status, { code, message, details: [] });

export async function startSigstoreStack(options: StackOptions = {}): Promise<SigstoreStack> {
  const requests: StackRequestCounts = { fulcio: 0, rekor: 0, rekorV2: 0, tsa: 0, oidc: 0 };
  const servers: Server[] = [];
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'aibom-sigstore-stack-')));
  const ownsDir = options.dir === undefined;
  if (!ownsDir) await mkdir(dir, { recursive: true });

  try {
    // Keys: one per service, as in a real deployment.
    const caKeys = ecKeyPair();
    const ctKeys = ecKeyPair();
    const rekorKeys = ecKeyPair();
    const tsaKeys = ecKeyPair();
    const oidcKeys = ecKeyPair();
    const oidcKid = createHash('sha256').update(spkiDer(oidcKeys.publicKey)).digest('hex').slice(0, 16);

    const ctlog = await initializeCTLog(ctKeys);
    const ca = await initializeCA(caKeys, ctlog);
    const tsa = await initializeTSA(tsaKeys);
    // The mock encodes genTime with asn1js, which trims trailing zeros from the milliseconds
    // (".5Z"); verifiers (and RFC 3161's DER rules as sigstore-js reads them) expect three digits
    // or none. A real TSA's clock ticks in whole seconds here: drop the milliseconds.
    (tsa as unknown as { getCurrentTime: () => Date }).getCurrentTime = () => new Date(Math.floor(Date.now() / 1000) * 1000);
    const fulcioBySub = fulcioHandler(ca, { strict: true, subjectClaim: 'sub' }).fn;
    const fulcioByEmail = fulcioHandler(ca, { strict: true, subjectClaim: 'email' }).fn;
    const tsaFn = tsaHandler(tsa, { strict: true }).fn;

    // Servers first (ports decide the URLs), handlers bound below.
    let rekorFn: HandlerFn | undefined;
    let tlog: Awaited<ReturnType<typeof initializeTLog>> | undefined;
    let oidcUrl = '';
    const profiles = new Map<string, TokenClaims>();
    const actionsRequestToken = randomBytes(24).toString('hex');

    const mint = (claims: TokenClaims = {}): string => {
      const now = Math.floor(Date.now() / 1000);
      const payload: TokenClaims = {
        iss: oidcUrl,
        aud: 'sigstore',
        sub: DEFAULT_SUBJECT,
        iat: now,
        nbf: now - 5,
        exp: now + 600,
        jti: randomBytes(8).toString('hex'),
        ...claims,
      };
      return signJwt(payload, oidcKeys.privateKey, oidcKid);
    };

    const fulcio = await listen(servers, async (req, body) => {
      requests.fulcio++;
      if (req.method !== 'POST' || pathOf(req) !== '/api/v2/signingCert') return grpcError(404, 5, 'Not Found');
      let parsed: Json;
      try {
        parsed = JSON.parse(body.toString('utf8')) as Json;
      } catch {
        return grpcError(400, 3, 'malformed request body');
      }
      const token = (parsed.credentials as Json | undefined)?.oidcIdentityToken;
      if (typeof token !== 'string') return grpcError(400, 3, 'missing identity token');
      const claims = verifyJwt(token, oidcKeys.publicKey, oidcKid);
      if (!claims.ok) return grpcError(401, 16, `There was an error processing the identity token: ${claims.reason}`);
      const pkr = parsed.publicKeyRequest as Json | undefined;
      const pem = (pkr?.publicKey as Json | undefined)?.content;
      const pop = pkr?.proofOfPossession;
      if (typeof pem !== 'string' || typeof pop !== 'string') return grpcError(400, 3, 'missing public key or proof of possession');
      const useEmail = typeof claims.claims.email === 'string';
      if (useEmail && claims.claims.email_verified !== true) return grpcError(401, 16, 'email not verified');
      const subject = String(useEmail ? claims.claims.email : claims.claims.sub);
      let popOk = false;
      try {
        popOk = cryptoVerify('sha256', Buffer.from(subject), createPublicKey(pem), Buffer.from(pop, 'base64'));
      } catch {
        popOk = false;
      }
      if (!popOk) return grpcError(400, 3, 'The signature supplied in the request could not be verified');
      const r = await (useEmail ? fulcioByEmail : fulcioBySub)(body.toString('utf8'));
      return { status: r.statusCode, body: toBytes(r.response), type: r.contentType ?? 'text/plain' };
    });

    const rekor = await listen(servers, async (req, body) => {
      const path = pathOf(req);
      if (req.method === 'POST' && path === '/api/v1/log/entries') {
        requests.rekor++;
        let proposed: Json;
        try {
          proposed = JSON.parse(body.toString('utf8')) as Json;
        } catch {
          return json(400, { code: 400, message: 'malformed entry' });
        }
        const canon = canonicalizeV1Entry(proposed);
        if ('error' in canon) return json(400, { code: 400, message: canon.error });
        const r = await rekorFn!(JSON.stringify(canon.entry));
        return { status: r.statusCode, body: toBytes(r.response), type: r.contentType ?? 'text/plain' };
      }
      if (req.method === 'POST' && path === '/api/v2/log/entries') {
        requests.rekorV2++;
        let request: ReturnType<typeof CreateEntryRequest.fromJSON>;
        try {
          request = CreateEntryRequest.fromJSON(JSON.parse(body.toString('utf8')));
        } catch {
          return json(400, { code: 3, message: 'malformed entry' });
        }
        const entry = v2EntryFromRequest(request);
        if ('error' in entry) return json(400, { code: 3, message: entry.error });
        const logged = await tlog!.log(entry.entry);
        const [only] = Object.values(logged as Record<string, LoggedEntry>);
        if (!only) return json(500, { code: 13, message: 'log failure' });
        const proof = only.verification.inclusionProof;
        return json(201, {
          logIndex: String(only.logIndex),
          logId: { keyId: Buffer.from(only.logID, 'hex').toString('base64') },
          kindVersion: { kind: entry.kind, version: '0.0.2' },
          integratedTime: '0',
          inclusionProof: {
            logIndex: String(proof.logIndex),
            rootHash: Buffer.from(proof.rootHash, 'hex').toString('base64'),
            treeSize: String(proof.treeSize),
            hashes: proof.hashes.map((h: string) => Buffer.from(h, 'hex').toString('base64')),
            checkpoint: { envelope: proof.checkpoint },
          },
          canonicalizedBody: only.body,
        });
      }
      requests.rekor++;
      return json(404, { code: 404, message: 'Not Found' });
    });

    const tsaServer = await listen(servers, async (req, body) => {
      requests.tsa++;
      if (req.method !== 'POST' || pathOf(req) !== '/api/v1/timestamp') return json(404, { code: 404, message: 'Not Found' });
      const r = await tsaFn(body.toString('utf8'));
      return { status: r.statusCode, body: toBytes(r.response), type: r.contentType ?? 'text/plain' };
    });

    const oidc = await listen(servers, async (req) => {
      requests.oidc++;
      const url = new URL(req.url ?? '/', oidcUrl);
      if (req.method !== 'GET') return json(405, { message: 'method not allowed' });
      if (url.pathname === '/.well-known/openid-configuration') {
        return json(200, { issuer: oidcUrl, jwks_uri: `${oidcUrl}/jwks`, id_token_signing_alg_values_supported: ['ES256'] });
      }
      if (url.pathname === '/jwks') {
        const jwk = oidcKeys.publicKey.export({ format: 'jwk' });
        return json(200, { keys: [{ ...jwk, kid: oidcKid, alg: 'ES256', use: 'sig' }] });
      }
      if (url.pathname === '/token') {
        // As the GitHub Actions endpoint: the request token is a bearer secret.
        const auth = req.headers.authorization ?? '';
        const m = /^bearer\s+(.+)$/i.exec(auth);
        if (!m || m[1] !== actionsRequestToken) return json(401, { message: 'Bad credentials' });
        const profile = profiles.get(url.searchParams.get('profile') ?? '') ?? {};
        const audience = url.searchParams.get('audience');
        const claims: TokenClaims = { ...profile };
        if (audience) claims.aud = audience;
        return json(200, { count: 1, value: mint(claims) });
      }
      return json(404, { message: 'Not Found' });
    });

    oidcUrl = oidc;
    tlog = await initializeTLog(rekor, rekorKeys);
    rekorFn = rekorHandler(tlog, { strict: true }).fn;

    // Validity windows start a little in the past, as a deployed instance's would.
    const start = new Date(Date.now() - 60 * 60 * 1000).toISOString();
    const ecKeyDetails = 'PKIX_ECDSA_P256_SHA_256';
    const rekorSpki = spkiDer(rekorKeys.publicKey);
    const ctSpki = Buffer.from(ctlog.publicKey);
    const trustedRoot: Json = {
      mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
      tlogs: [
        {
          baseUrl: rekor,
          hashAlgorithm: 'SHA2_256',
          publicKey: { rawBytes: rekorSpki.toString('base64'), keyDetails: ecKeyDetails, validFor: { start } },
          logId: { keyId: sha256(rekorSpki).toString('base64') },
        },
      ],
      certificateAuthorities: [
        {
          subject: { organization: 'sigstore.mock', commonName: 'sigstore' },
          uri: fulcio,
          certChain: { certificates: [{ rawBytes: Buffer.from(ca.rootCertificate as Uint8Array).toString('base64') }] },
          validFor: { start },
        },
      ],
      ctlogs: [
        {
          baseUrl: `${fulcio}/ct`,
          hashAlgorithm: 'SHA2_256',
          publicKey: { rawBytes: ctSpki.toString('base64'), keyDetails: ecKeyDetails, validFor: { start } },
          logId: { keyId: Buffer.from(ctlog.logID as Uint8Array).toString('base64') },
        },
      ],
      timestampAuthorities: [
        {
          subject: { organization: 'sigstore.mock', commonName: 'tsa' },
          uri: tsaServer,
          certChain: {
            certificates: [
              { rawBytes: Buffer.from(tsa.intCertificate as Uint8Array).toString('base64') },
              { rawBytes: Buffer.from(tsa.rootCertificate as Uint8Array).toString('base64') },
            ],
          },
          validFor: { start },
        },
      ],
    };
    const service = (url: string, majorApiVersion = 1) => ({ url, majorApiVersion, validFor: { start }, operator: 'aibom-test' });
    const signingConfig: Json = {
      mediaType: 'application/vnd.dev.sigstore.signingconfig.v0.2+json',
      caUrls: [service(fulcio)],
      oidcUrls: [service(oidc)],
      rekorTlogUrls: [service(rekor)],
      // SigningConfig TSA URLs are the full endpoint (the spec says so); Fulcio/Rekor are base URLs.
      tsaUrls: [service(`${tsaServer}/api/v1/timestamp`)],
      rekorTlogConfig: { selector: 'ANY' },
      tsaConfig: { selector: 'ANY' },
    };
    const signingConfigV2 = { ...signingConfig, rekorTlogUrls: [service(rekor, 2)] };
    const signingConfigV01 = {
      mediaType: 'application/vnd.dev.sigstore.signingconfig.v0.1+json',
      caUrl: fulcio,
      oidcUrl: oidc,
      tlogUrls: [rekor],
      tsaUrls: [`${tsaServer}/api/v1/timestamp`],
    };
    const trustedRootPath = join(dir, 'trusted_root.json');
    const signingConfigPath = join(dir, 'signing_config.json');
    const signingConfigRekorV2Path = join(dir, 'signing_config.rekor-v2.json');
    const signingConfigV01Path = join(dir, 'signing_config.v0.1.json');
    await writeFile(trustedRootPath, `${JSON.stringify(trustedRoot, null, 2)}\n`);
    await writeFile(signingConfigPath, `${JSON.stringify(signingConfig, null, 2)}\n`);
    await writeFile(signingConfigRekorV2Path, `${JSON.stringify(signingConfigV2, null, 2)}\n`);
    await writeFile(signingConfigV01Path, `${JSON.stringify(signingConfigV01, null, 2)}\n`);

    let closed = false;
    return {
      urls: { fulcio, rekor, tsa: tsaServer, oidc, oidcTokenRequest: `${oidc}/token` },
      dir,
      trustedRootPath,
      signingConfigPath,
      signingConfigRekorV2Path,
      signingConfigV01Path,
      trustedRoot,
      signingConfig,
      defaultSubject: DEFAULT_SUBJECT,
      actionsRequestToken,
      mintToken: mint,
      githubActionsEnv(claims: TokenClaims = {}) {
        const id = randomBytes(8).toString('hex');
        profiles.set(id, claims);
        // A query string of its own, as GitHub's URL has; clients append &audience=.
        return { ACTIONS_ID_TOKEN_REQUEST_URL: `${oidc}/token?profile=${id}`, ACTIONS_ID_TOKEN_REQUEST_TOKEN: actionsRequestToken };
      },
      requests,
      async close() {
        if (closed) return;
        closed = true;
        await closeAll(servers);
        if (ownsDir) await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await closeAll(servers);
    if (ownsDir) await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// HTTP plumbing

async function listen(servers: Server[], handle: (req: IncomingMessage, body: Buffer) => Promise<Reply>): Promise<string> {
  const server = createServer((req, res) => {
    void serve(req, res, handle);
  });
  // Keep-alive sockets would hold close() open; tests make few requests per connection.
  server.keepAliveTimeout = 1000;
  servers.push(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return `http://127.0.0.1:${port}`;
}

async function serve(req: IncomingMessage, res: ServerResponse, handle: (req: IncomingMessage, body: Buffer) => Promise<Reply>) {
  const chunks: Buffer[] = [];
  let size = 0;
  let tooBig = false;
  try {
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > MAX_BODY) {
        tooBig = true;
        break;
      }
      chunks.push(chunk as Buffer);
    }
  } catch {
    res.destroy();
    return;
  }
  let reply: Reply;
  try {
    reply = tooBig ? json(413, { message: 'request too large' }) : await handle(req, Buffer.concat(chunks));
  } catch (err) {
    reply = json(500, { message: err instanceof Error ? err.message : String(err) });
  }
  const bytes = typeof reply.body === 'string' ? Buffer.from(reply.body) : Buffer.from(reply.body);
  res.writeHead(reply.status, { 'content-type': reply.type ?? 'application/json', 'content-length': bytes.length });
  res.end(bytes);
}

async function closeAll(servers: Server[]): Promise<void> {
  await Promise.all(
    servers.map(
      (s) =>
        new Promise<void>((resolve) => {
          if (!s.listening) return resolve();
          s.close(() => resolve());
          s.closeAllConnections();
        }),
    ),
  );
}

function pathOf(req: IncomingMessage): string {
  return new URL(req.url ?? '/', 'http://x').pathname;
}

function toBytes(v: string | ArrayBufferView): string | Uint8Array {
  return typeof v === 'string' ? v : new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

// ---------------------------------------------------------------------------------------------
// Keys and tokens

function ecKeyPair(): { publicKey: KeyObject; privateKey: KeyObject } {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' });
}

function spkiDer(key: KeyObject): Buffer {
  return key.export({ format: 'der', type: 'spki' });
}

function sha256(data: Uint8Array): Buffer {
  return createHash('sha256').update(data).digest();
}

function b64url(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url');
}

function signJwt(payload: Json, key: KeyObject, kid: string): string {
  const head = b64url(JSON.stringify({ alg: 'ES256', typ: 'JWT', kid }));
  const body = b64url(JSON.stringify(payload));
  const sig = cryptoSign('sha256', Buffer.from(`${head}.${body}`), { key, dsaEncoding: 'ieee-p1363' });
  return `${head}.${body}.${b64url(sig)}`;
}

function verifyJwt(token: string, key: KeyObject, kid: string): { ok: true; claims: TokenClaims } | { ok: false; reason: string } {
  const parts = token.split('.');
  if (parts.length !== 3) return { ok: false, reason: 'not a JWT' };
  let header: Json;
  let claims: TokenClaims;
  try {
    header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8')) as Json;
    claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as TokenClaims;
  } catch {
    return { ok: false, reason: 'malformed JWT' };
  }
  if (header.alg !== 'ES256' || header.kid !== kid) return { ok: false, reason: 'unknown signing key' };
  const ok = cryptoVerify(
    'sha256',
    Buffer.from(`${parts[0]}.${parts[1]}`),
    { key, dsaEncoding: 'ieee-p1363' },
    Buffer.from(parts[2]!, 'base64url'),
  );
  if (!ok) return { ok: false, reason: 'bad signature' };
  const now = Math.floor(Date.now() / 1000);
  if (typeof claims.exp !== 'number' || claims.exp < now) return { ok: false, reason: 'token expired' };
  if (typeof claims.nbf === 'number' && claims.nbf > now + 60) return { ok: false, reason: 'token not yet valid' };
  const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (!aud.includes('sigstore')) return { ok: false, reason: 'audience is not sigstore' };
  if (typeof claims.iss !== 'string' || claims.iss === '') return { ok: false, reason: 'no issuer' };
  if (typeof claims.sub !== 'string' && typeof claims.email !== 'string') return { ok: false, reason: 'no subject' };
  return { ok: true, claims };
}

// ---------------------------------------------------------------------------------------------
// Rekor entries as real Rekor stores them

interface LoggedEntry {
  body: string;
  integratedTime: number;
  logID: string;
  logIndex: number;
  verification: {
    inclusionProof: { logIndex: number; treeSize: number; rootHash: string; hashes: string[]; checkpoint: string };
    signedEntryTimestamp: string;
  };
}

/** A public key from a verifier: PEM certificate or PEM public key. */
function verifierKey(pem: string): KeyObject {
  if (pem.includes('BEGIN CERTIFICATE')) return new X509Certificate(pem).publicKey;
  return createPublicKey(pem);
}

/** Hash for an ECDSA key as Sigstore key details pair them (P-384 → SHA-384); undefined for Ed25519. */
function hashFor(key: KeyObject): string | undefined {
  if (key.asymmetricKeyType === 'ed25519') return undefined;
  const curve = key.asymmetricKeyDetails?.namedCurve;
  return curve === 'secp384r1' ? 'sha384' : curve === 'secp521r1' ? 'sha512' : 'sha256';
}

function verifyAny(key: KeyObject, data: Buffer, sig: Buffer): boolean {
  try {
    // Accept the curve's own hash or SHA-256 (sigstore-js signs DSSE with SHA-256 on any curve).
    const h = hashFor(key);
    if (cryptoVerify(h ?? null, data, key, sig)) return true;
    return h !== undefined && h !== 'sha256' && cryptoVerify('sha256', data, key, sig);
  } catch {
    return false;
  }
}

/** Turn a proposed v1 entry into what Rekor would store, or refuse it as Rekor would. */
export function canonicalizeV1Entry(proposed: Json): { entry: Json } | { error: string } {
  if (proposed.kind === 'hashedrekord') {
    const spec = proposed.spec as Json | undefined;
    const data = (spec?.data as Json | undefined)?.hash as Json | undefined;
    const signature = spec?.signature as Json | undefined;
    if (!data || typeof data.value !== 'string' || !signature || typeof signature.content !== 'string') {
      return { error: 'malformed hashedrekord entry' };
    }
    return { entry: proposed };
  }
  if (proposed.kind === 'dsse') {
    const pc = (proposed.spec as Json | undefined)?.proposedContent as Json | undefined;
    if (!pc || typeof pc.envelope !== 'string' || !Array.isArray(pc.verifiers) || pc.verifiers.length === 0) {
      return { error: 'malformed dsse entry' };
    }
    let env: { payloadType: string; payload: string; signatures: Array<{ sig: string; keyid?: string }> };
    try {
      env = JSON.parse(pc.envelope) as typeof env;
    } catch {
      return { error: 'dsse envelope is not JSON' };
    }
    const payload = Buffer.from(env.payload, 'base64');
    const paeBytes = Buffer.concat([
      Buffer.from(`DSSEv1 ${Buffer.byteLength(env.payloadType)} ${env.payloadType} ${payload.length} `),
      payload,
    ]);
    const verifiers = (pc.verifiers as string[]).map((v) => Buffer.from(v, 'base64').toString('utf8'));
    const signatures: Json[] = [];
    for (const s of env.signatures) {
      const sig = Buffer.from(s.sig, 'base64');
      const verifier = verifiers.find((pem) => verifyAny(verifierKey(pem), paeBytes, sig));
      if (verifier === undefined) return { error: 'could not verify envelope signature' };
      signatures.push({ signature: s.sig, verifier: Buffer.from(verifier).toString('base64') });
    }
    return {
      entry: {
        apiVersion: '0.0.1',
        kind: 'dsse',
        spec: {
          envelopeHash: { algorithm: 'sha256', value: sha256(Buffer.from(pc.envelope)).toString('hex') },
          payloadHash: { algorithm: 'sha256', value: sha256(payload).toString('hex') },
          signatures,
        },
      },
    };
  }
  if (proposed.kind === 'intoto') return { entry: proposed };
  return { error: `unsupported entry kind ${String(proposed.kind)}` };
}

/** A Rekor v2 verifier's key, checked as Rekor v2 checks it: a certificate or SPKI that parses, key details that fit the key. */
function v2VerifierKey(v: { verifier?: { $case: string; [k: string]: unknown } | undefined; keyDetails: number } | undefined): { key: KeyObject; hash: string | undefined } | { error: string } {
  const inner = v?.verifier;
  let key: KeyObject;
  try {
    if (inner?.$case === 'x509Certificate') key = new X509Certificate((inner.x509Certificate as { rawBytes: Buffer }).rawBytes).publicKey;
    else if (inner?.$case === 'publicKey') key = createPublicKey({ key: (inner.publicKey as { rawBytes: Buffer }).rawBytes, format: 'der', type: 'spki' });
    else return { error: 'missing verifier' };
  } catch {
    return { error: `the ${inner?.$case} verifier does not parse` };
  }
  const details: Record<number, [string, string | undefined, string]> = { 5: ['ec', 'prime256v1', 'sha256'], 12: ['ec', 'secp384r1', 'sha384'], 7: ['ed25519', undefined, ''] };
  const want = details[v!.keyDetails];
  if (!want || want[0] !== key.asymmetricKeyType || (want[1] !== undefined && want[1] !== key.asymmetricKeyDetails?.namedCurve)) {
    return { error: `key details ${v!.keyDetails} do not fit the verifier's key` };
  }
  return { key, hash: want[2] || undefined };
}

/** The Rekor v2 Entry (as JSON) for a create-entry request. */
function v2EntryFromRequest(request: ReturnType<typeof CreateEntryRequest.fromJSON>): { entry: Json; kind: string } | { error: string } {
  const spec = request.spec;
  if (spec?.$case === 'hashedRekordRequestV002') {
    const r = spec.hashedRekordRequestV002;
    if (!r.signature) return { error: 'missing signature' };
    const key = v2VerifierKey(r.signature.verifier);
    if ('error' in key) return key;
    // As Rekor v2: the digest's algorithm is the one the key details name.
    const entry = Entry.toJSON({
      kind: 'hashedrekord',
      apiVersion: '0.0.2',
      spec: {
        spec: {
          $case: 'hashedRekordV002',
          hashedRekordV002: { data: { algorithm: key.hash === 'sha384' ? 2 /* SHA2_384 */ : 1 /* SHA2_256 */, digest: r.digest }, signature: r.signature },
        },
      },
    }) as Json;
    return { entry, kind: 'hashedrekord' };
  }
  if (spec?.$case === 'dsseRequestV002') {
    const r = spec.dsseRequestV002;
    const env = r.envelope;
    const verifier = r.verifiers[0];
    if (!env || !verifier) return { error: 'missing envelope or verifier' };
    // As Rekor v2: the envelope's signature must verify with the verifier, with its key details' hash.
    const key = v2VerifierKey(verifier);
    if ('error' in key) return key;
    const paeBytes = Buffer.concat([Buffer.from(`DSSEv1 ${Buffer.byteLength(env.payloadType)} ${env.payloadType} ${env.payload.length} `), env.payload]);
    const sig = env.signatures[0]?.sig;
    let verified = false;
    try {
      verified = !!sig && cryptoVerify(key.hash ?? null, paeBytes, key.key, sig);
    } catch {
      verified = false;
    }
    if (!verified) return { error: 'the envelope signature does not verify with the verifier and its key details' };
    const entry = Entry.toJSON({
      kind: 'dsse',
      apiVersion: '0.0.2',
      spec: {
        spec: {
          $case: 'dsseV002',
          dsseV002: {
            payloadHash: { algorithm: 1 /* SHA2_256 */, digest: sha256(env.payload) },
            signatures: env.signatures.map((s) => ({ content: s.sig, verifier })),
          },
        },
      },
    }) as Json;
    return { entry, kind: 'dsse' };
  }
  return { error: 'unsupported entry type' };
}
