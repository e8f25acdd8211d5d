/**
 * Which npm registry to ask, and with which token, the way npm decides: `--registry URL`, else
 * `npm_config_registry` in the environment, else `registry=` in the project's `.npmrc`, then the
 * user's (`$npm_config_userconfig`, else `~/.npmrc`), else what `npm config get registry` says
 * (npm's own default: aibom names no registry itself). The auth token is the `_authToken` of
 * the longest `//host/path/:_authToken=` prefix of the registry URL; `${VAR}` is expanded from
 * the environment. Tokens are never printed, logged or written.
 */
import { execFile } from 'node:child_process';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { AibomError } from '../errors.js';
import { pathKind, readTextBounded } from '../util/fs.js';

export interface NpmRegistry {
  /** Base URL, ending with `/`. */
  url: string;
  /** Where the URL came from (for messages). */
  source: string;
  token?: string;
}

const MAX_NPMRC_BYTES = 256 * 1024;

function expand(v: string, env: NodeJS.ProcessEnv): string {
  return v.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, k: string) => env[k] ?? '');
}

/** `key=value` lines of an .npmrc (comments `;` / `#`, quotes stripped). */
export function parseNpmrc(text: string, env: NodeJS.ProcessEnv): Map<string, string> {
  const out = new Map<string, string>();
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith(';') || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    let v = line.slice(eq + 1).trim();
    if (v.length >= 2 && ((v.startsWith('"') && v.endsWith('"')) || (v.startsWith("'") && v.endsWith("'")))) v = v.slice(1, -1);
    out.set(expand(line.slice(0, eq).trim(), env), expand(v, env));
  }
  return out;
}

function normalize(url: string, source: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new AibomError('USAGE', `${source}: registry ${JSON.stringify(url.slice(0, 200))} is not a URL`);
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new AibomError('USAGE', `${source}: registry must be an http(s) URL`);
  if (u.username || u.password) throw new AibomError('USAGE', `${source}: put credentials in .npmrc (_authToken), not in the registry URL`);
  return u.href.endsWith('/') ? u.href : `${u.href}/`;
}

async function npmConfigRegistry(env: NodeJS.ProcessEnv): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile('npm', ['config', 'get', 'registry'], { env, timeout: 10_000, maxBuffer: 64 * 1024 }, (err, stdout) => {
      resolve(err ? undefined : stdout.trim() || undefined);
    });
  });
}

async function readNpmrc(file: string, env: NodeJS.ProcessEnv): Promise<Map<string, string>> {
  if ((await pathKind(file)) !== 'file') return new Map();
  return parseNpmrc(await readTextBounded(file, MAX_NPMRC_BYTES, file), env);
}

export async function resolveNpmRegistry(o: { cwd: string; env?: NodeJS.ProcessEnv; registry?: string }): Promise<NpmRegistry> {
  const env = o.env ?? process.env;
  const project = await readNpmrc(join(o.cwd, '.npmrc'), env);
  const userFile = env.npm_config_userconfig ?? env.NPM_CONFIG_USERCONFIG ?? join(env.HOME ?? homedir(), '.npmrc');
  const user = await readNpmrc(userFile, env);
  let url: string | undefined;
  let source = '';
  const fromEnv = env.npm_config_registry ?? env.NPM_CONFIG_REGISTRY;
  if (o.registry) [url, source] = [o.registry, '--registry'];
  else if (fromEnv) [url, source] = [fromEnv, 'npm_config_registry'];
  else if (project.get('registry')) [url, source] = [project.get('registry')!, '.npmrc'];
  else if (user.get('registry')) [url, source] = [user.get('registry')!, userFile];
  else {
    url = await npmConfigRegistry(env);
    source = 'npm config get registry';
  }
  if (!url) throw new AibomError('USAGE', 'no npm registry configured: give --registry URL (or set registry in .npmrc)');
  const base = normalize(url, source);
  const reg: NpmRegistry = { url: base, source };
  // //host[:port]/path/:_authToken — the longest prefix of the registry URL wins.
  const noProto = base.replace(/^https?:/, '');
  let best = -1;
  for (const conf of [user, project]) {
    for (const [k, v] of conf) {
      if (!k.endsWith(':_authToken')) continue;
      const prefix = k.slice(0, -':_authToken'.length);
      const p = prefix.endsWith('/') ? prefix : `${prefix}/`;
      if (noProto.startsWith(p) && p.length >= best && v) {
        best = p.length;
        reg.token = v;
      }
    }
  }
  return reg;
}
