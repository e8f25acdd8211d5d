/**
 * A loopback GitHub REST API for tests: real HTTP on 127.0.0.1 answering the endpoints aibom's
 * Action uses (releases by tag, release assets list/upload/delete on an "uploads" origin,
 * attestations). Every request is checked against GitHub's published OpenAPI description
 * (@octokit/openapi): an unknown path or method, a missing required query parameter or a body
 * that does not match the request schema is recorded as a violation and answered 400/404; every
 * response the fake sends is validated against the operation's response schema, so the fake
 * cannot drift from the real API.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';

const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

const require = createRequire(import.meta.url);

interface Operation {
  method: string;
  template: string;
  regex: RegExp;
  names: string[];
  op: Record<string, any>;
}

let spec: Record<string, any> | undefined;
let operations: Operation[] | undefined;
let ajv: Ajv | undefined;
const validators = new Map<string, ValidateFunction>();

function loadSpec(): { spec: Record<string, any>; operations: Operation[]; ajv: Ajv } {
  if (spec && operations && ajv) return { spec, operations, ajv };
  spec = JSON.parse(readFileSync(require.resolve('@octokit/openapi/generated/api.github.com.json'), 'utf8')) as Record<string, any>;
  operations = [];
  for (const [template, item] of Object.entries(spec.paths as Record<string, Record<string, any>>)) {
    const names: string[] = [];
    const regex = new RegExp(
      `^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{([^}]+)\}/g, (_m, n: string) => {
        names.push(n);
        return '([^/]+)';
      })}$`,
    );
    for (const [method, op] of Object.entries(item)) {
      if (['get', 'post', 'put', 'patch', 'delete', 'head'].includes(method)) operations.push({ method: method.toUpperCase(), template, regex, names, op });
    }
  }
  ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true });
  addFormats(ajv);
  ajv.addSchema({ $id: 'gh', components: spec.components }, 'gh');
  return { spec, operations, ajv };
}

function rewriteRefs(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(rewriteRefs);
  if (schema && typeof schema === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(schema)) out[k] = k === '$ref' && typeof v === 'string' && v.startsWith('#/') ? `gh${v}` : rewriteRefs(v);
    return out;
  }
  return schema;
}

function validatorFor(key: string, schema: unknown): ValidateFunction {
  let v = validators.get(key);
  if (!v) {
    v = loadSpec().ajv.compile(rewriteRefs(schema) as object);
    validators.set(key, v);
  }
  return v;
}

function resolveRef(obj: any): any {
  const s = loadSpec().spec;
  while (obj && typeof obj.$ref === 'string') {
    obj = obj.$ref
      .slice(2)
      .split('/')
      .reduce((o: any, k: string) => o?.[k.replace(/~1/g, '/').replace(/~0/g, '~')], s);
  }
  return obj;
}

export interface FakeAsset {
  id: number;
  name: string;
  label: string | null;
  content_type: string;
  data: Buffer;
}

export interface FakeRelease {
  id: number;
  tag_name: string;
  assets: FakeAsset[];
}

export interface RecordedRequest {
  method: string;
  path: string;
  operation?: string;
  authorization?: string;
  status: number;
}

export interface GitHubFake {
  apiUrl: string;
  uploadsUrl: string;
  owner: string;
  repo: string;
  releases: FakeRelease[];
  attestations: Array<{ id: number; bundle: unknown }>;
  requests: RecordedRequest[];
  /** OpenAPI mismatches (requests or responses). A test asserts this stays empty. */
  violations: string[];
  /** Answer every request whose operation id matches with this status (e.g. 403). */
  failWith: Map<string, number>;
  addRelease(tag: string): FakeRelease;
  close(): Promise<void>;
}

export async function startGitHubFake(options: { owner?: string; repo?: string } = {}): Promise<GitHubFake> {
  const { operations: ops } = loadSpec();
  const owner = options.owner ?? 'acme';
  const repo = options.repo ?? 'agent';
  let nextId = 1000;
  const state: Omit<GitHubFake, 'apiUrl' | 'uploadsUrl' | 'close'> = {
    owner,
    repo,
    releases: [],
    attestations: [],
    requests: [],
    violations: [],
    failWith: new Map(),
    addRelease(tag: string) {
      const r: FakeRelease = { id: nextId++, tag_name: tag, assets: [] };
      state.releases.push(r);
      return r;
    },
  };
  let apiBase = '';
  let uploadsBase = '';

  const releaseJson = (r: FakeRelease) => ({
    url: `${apiBase}/repos/${owner}/${repo}/releases/${r.id}`,
    html_url: `${apiBase}/${owner}/${repo}/releases/tag/${r.tag_name}`,
    assets_url: `${apiBase}/repos/${owner}/${repo}/releases/${r.id}/assets`,
    upload_url: `${uploadsBase}/repos/${owner}/${repo}/releases/${r.id}/assets{?name,label}`,
    tarball_url: null,
    zipball_url: null,
    id: r.id,
    node_id: `RE_${r.id}`,
    tag_name: r.tag_name,
    target_commitish: 'main',
    name: r.tag_name,
    body: null,
    draft: false,
    prerelease: false,
    immutable: false,
    created_at: '2026-11-01T00:00:00Z',
    published_at: '2026-11-01T00:00:00Z',
    updated_at: '2026-11-01T00:00:00Z',
    author: userJson(),
    assets: r.assets.map((a) => assetJson(a)),
  });
  const userJson = () => ({
    login: 'release-bot',
    id: 1,
    node_id: 'U_1',
    avatar_url: `${apiBase}/avatars/1`,
    gravatar_id: null,
    url: `${apiBase}/users/release-bot`,
    html_url: `${apiBase}/release-bot`,
    followers_url: `${apiBase}/users/release-bot/followers`,
    following_url: `${apiBase}/users/release-bot/following{/other_user}`,
    gists_url: `${apiBase}/users/release-bot/gists{/gist_id}`,
    starred_url: `${apiBase}/users/release-bot/starred{/owner}{/repo}`,
    subscriptions_url: `${apiBase}/users/release-bot/subscriptions`,
    organizations_url: `${apiBase}/users/release-bot/orgs`,
    repos_url: `${apiBase}/users/release-bot/repos`,
    events_url: `${apiBase}/users/release-bot/events{/privacy}`,
    received_events_url: `${apiBase}/users/release-bot/received_events`,
    type: 'Bot',
    site_admin: false,
  });
  const assetJson = (a: FakeAsset) => ({
    url: `${apiBase}/repos/${owner}/${repo}/releases/assets/${a.id}`,
    browser_download_url: `${apiBase}/${owner}/${repo}/releases/download/${a.name}`,
    id: a.id,
    node_id: `RA_${a.id}`,
    name: a.name,
    label: a.label,
    state: 'uploaded',
    content_type: a.content_type,
    size: a.data.length,
    digest: null,
    download_count: 0,
    created_at: '2026-11-01T00:00:00Z',
    updated_at: '2026-11-01T00:00:00Z',
    uploader: userJson(),
  });

  const handler = async (req: IncomingMessage, res: ServerResponse, isUploads: boolean) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const method = req.method ?? 'GET';
    const rec: RecordedRequest = { method, path: url.pathname, status: 0 };
    if (typeof req.headers.authorization === 'string') rec.authorization = req.headers.authorization;
    state.requests.push(rec);
    const send = (status: number, json?: unknown, op?: Operation) => {
      rec.status = status;
      if (op && json !== undefined) {
        const resp = resolveRef(op.op.responses?.[String(status)]);
        const schema = resp?.content?.['application/json']?.schema;
        if (schema) {
          const v = validatorFor(`${op.method} ${op.template} ${status}`, schema);
          if (!v(json)) state.violations.push(`response ${status} of ${op.method} ${op.template}: ${v.errors?.map((e) => `${e.instancePath} ${e.message}`).join('; ')}`);
        } else if (status < 300 && status !== 204) {
          state.violations.push(`response ${status} of ${op.method} ${op.template} is not in the OpenAPI description`);
        }
      }
      res.writeHead(status, json === undefined ? {} : { 'content-type': 'application/json; charset=utf-8' });
      res.end(json === undefined ? undefined : JSON.stringify(json));
    };
    const op = ops.find((o) => o.method === method && o.regex.test(url.pathname));
    if (!op) {
      state.violations.push(`no such operation in the OpenAPI description: ${method} ${url.pathname}`);
      return send(404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' });
    }
    rec.operation = op.op.operationId;
    const isUploadOp = op.op.operationId === 'repos/upload-release-asset';
    if (isUploadOp !== isUploads) state.violations.push(`${op.op.operationId} sent to the ${isUploads ? 'uploads' : 'API'} origin`);
    const params = Object.fromEntries(op.names.map((n, i) => [n, decodeURIComponent(op.regex.exec(url.pathname)![i + 1]!)]));
    for (const p of (op.op.parameters ?? []).map(resolveRef)) {
      if (p?.in === 'query' && p.required && !url.searchParams.has(p.name)) {
        state.violations.push(`${op.op.operationId}: missing required query parameter ${p.name}`);
        return send(400, { message: `missing ${p.name}` });
      }
    }
    const rb = resolveRef(op.op.requestBody);
    if (rb?.content?.['application/json']?.schema && !isUploadOp) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(body.toString('utf8'));
      } catch {
        state.violations.push(`${op.op.operationId}: request body is not JSON`);
        return send(400, { message: 'Problems parsing JSON' });
      }
      const v = validatorFor(`${op.method} ${op.template} request`, rb.content['application/json'].schema);
      if (!v(parsed)) {
        state.violations.push(`${op.op.operationId}: request body: ${v.errors?.map((e) => `${e.instancePath} ${e.message}`).join('; ')}`);
        return send(422, { message: 'Validation Failed' });
      }
    }
    const forced = state.failWith.get(op.op.operationId) ?? state.failWith.get('*');
    if (forced) {
      return send(forced, { message: forced === 403 ? 'Resource not accessible by integration' : 'Error', documentation_url: 'https://docs.github.com/rest' });
    }
    if (params.owner !== owner || params.repo !== repo) return send(404, { message: 'Not Found' });
    switch (op.op.operationId) {
      case 'repos/get-release-by-tag': {
        const r = state.releases.find((x) => x.tag_name === params.tag);
        return r ? send(200, releaseJson(r), op) : send(404, { message: 'Not Found' });
      }
      case 'repos/list-release-assets': {
        const r = state.releases.find((x) => x.id === Number(params.release_id));
        return r ? send(200, r.assets.map(assetJson), op) : send(404, { message: 'Not Found' });
      }
      case 'repos/delete-release-asset': {
        for (const r of state.releases) {
          const i = r.assets.findIndex((a) => a.id === Number(params.asset_id));
          if (i >= 0) {
            r.assets.splice(i, 1);
            return send(204);
          }
        }
        return send(404, { message: 'Not Found' });
      }
      case 'repos/upload-release-asset': {
        const r = state.releases.find((x) => x.id === Number(params.release_id));
        if (!r) return send(404, { message: 'Not Found' });
        const name = url.searchParams.get('name')!;
        if (r.assets.some((a) => a.name === name)) {
          // GitHub refuses a second asset of the same name.
          return send(422, { message: 'Validation Failed', errors: [{ resource: 'ReleaseAsset', code: 'already_exists', field: 'name' }] });
        }
        const a: FakeAsset = {
          id: nextId++,
          name,
          label: url.searchParams.get('label'),
          content_type: String(req.headers['content-type'] ?? 'application/octet-stream'),
          data: body,
        };
        r.assets.push(a);
        return send(201, assetJson(a), op);
      }
      case 'repos/create-attestation': {
        const parsed = JSON.parse(body.toString('utf8')) as { bundle: unknown };
        const id = nextId++;
        state.attestations.push({ id, bundle: parsed.bundle });
        return send(201, { id }, op);
      }
      default:
        state.violations.push(`the fake does not implement ${op.op.operationId}`);
        return send(501, { message: 'not implemented by the fake' });
    }
  };

  const listen = (uploads: boolean) =>
    new Promise<Server>((resolve) => {
      const s = createServer((req, res) => {
        handler(req, res, uploads).catch((err: unknown) => {
          state.violations.push(`fake crashed: ${String(err)}`);
          res.writeHead(500);
          res.end();
        });
      });
      s.listen(0, '127.0.0.1', () => resolve(s));
    });
  const api = await listen(false);
  const uploads = await listen(true);
  apiBase = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
  uploadsBase = `http://127.0.0.1:${(uploads.address() as AddressInfo).port}`;
  return {
    ...state,
    get releases() {
      return state.releases;
    },
    apiUrl: apiBase,
    uploadsUrl: uploadsBase,
    addRelease: state.addRelease,
    close: async () => {
      await Promise.all([api, uploads].map((s) => new Promise<void>((r) => s.close(() => r()))));
    },
  } as GitHubFake;
}
