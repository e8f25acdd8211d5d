/**
 * A TUF repository on 127.0.0.1 serving one target, `trusted_root.json`, as a private
 * Sigstore instance's TUF repository would: root, targets, snapshot and timestamp metadata
 * signed with one Ed25519 key (TUF spec 1.0, consistent_snapshot off), real HTTP.
 *
 *   const repo = await startTufRepo(trustedRootBytes);
 *   repo.url; repo.rootPath (the initial root.json a client starts from); repo.requests;
 *   repo.serveTarget(otherBytes, { signed: false }); await repo.close();
 *
 * Only for tests. Canonical JSON here is sorted keys without whitespace, which is the OLPC
 * canonical form for the ASCII-only documents this fixture signs.
 */
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function canonical(v: Json): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(v[k]!)}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

export interface TufRepo {
  url: string;
  rootPath: string;
  /** Paths requested, in order. */
  requests: string[];
  /**
   * Publish new target bytes (a new version of targets, snapshot, timestamp). With
   * `honestHash: false` the targets metadata lists the old hash, as a tampered mirror would.
   */
  serveTarget(bytes: Buffer, options?: { honestHash?: boolean }): void;
  close(): Promise<void>;
}

export async function startTufRepo(target: Buffer): Promise<TufRepo> {
  const dir = await mkdtemp(join(tmpdir(), 'aibom-tuf-'));
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const rawPublic = (publicKey.export({ format: 'der', type: 'spki' }) as Buffer).subarray(-32).toString('hex');
  const key = { keytype: 'ed25519', scheme: 'ed25519', keyval: { public: rawPublic } };
  const keyid = createHash('sha256').update(canonical(key)).digest('hex');
  const expires = new Date(Date.now() + 365 * 86400_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const signed = (body: Record<string, Json>) => ({
    signed: body,
    signatures: [{ keyid, sig: sign(null, Buffer.from(canonical(body)), privateKey).toString('hex') }],
  });
  const role = { keyids: [keyid], threshold: 1 };
  const root = signed({
    _type: 'root',
    spec_version: '1.0.31',
    version: 1,
    expires,
    consistent_snapshot: false,
    keys: { [keyid]: key },
    roles: { root: role, targets: role, snapshot: role, timestamp: role },
  });
  const files = new Map<string, Buffer>();
  files.set('/1.root.json', Buffer.from(JSON.stringify(root)));
  let version = 0;
  let listedHash = '';
  const publish = (bytes: Buffer, honestHash = true) => {
    version++;
    const hash = createHash('sha256').update(bytes).digest('hex');
    if (honestHash || !listedHash) listedHash = hash;
    const targets = signed({
      _type: 'targets',
      spec_version: '1.0.31',
      version,
      expires,
      targets: { 'trusted_root.json': { length: bytes.length, hashes: { sha256: listedHash } } },
    });
    const snapshot = signed({ _type: 'snapshot', spec_version: '1.0.31', version, expires, meta: { 'targets.json': { version } } });
    const timestamp = signed({ _type: 'timestamp', spec_version: '1.0.31', version, expires, meta: { 'snapshot.json': { version } } });
    files.set('/targets.json', Buffer.from(JSON.stringify(targets)));
    files.set('/snapshot.json', Buffer.from(JSON.stringify(snapshot)));
    files.set('/timestamp.json', Buffer.from(JSON.stringify(timestamp)));
    files.set('/targets/trusted_root.json', bytes);
  };
  publish(target);
  const rootPath = join(dir, 'root.json');
  await writeFile(rootPath, JSON.stringify(root));

  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    requests.push(path);
    const body = files.get(path);
    if (!body) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    rootPath,
    requests,
    serveTarget: (bytes, options = {}) => publish(bytes, options.honestHash ?? true),
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
