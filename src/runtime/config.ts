/**
 * What the zero-code hook (`node --import aibom/register agent.js`) verifies, from a config
 * file and AIBOM_* environment variables (schemas/aibom-runtime.schema.json):
 *   - the file named by AIBOM_CONFIG, else aibom.runtime.json / .yaml / .yml in the agent root:
 *     AIBOM_ROOT, else the folder of the entry script (`node --import aibom/register DIR/agent.js`
 *     reads DIR/aibom.runtime.json); never the working directory, which whoever starts the
 *     agent may choose. Its paths are relative to the file's folder, and the agent root
 *     defaults to that folder. The file, and its folder, must belong to the user and be
 *     writable by no one else (owner.ts);
 *   - AIBOM_BOM, AIBOM_BUNDLE, AIBOM_ROOT, AIBOM_POLICY, AIBOM_TRUSTED_ROOT, AIBOM_KEY,
 *     AIBOM_CERTIFICATE_IDENTITY[_REGEXP], AIBOM_CERTIFICATE_OIDC_ISSUER[_REGEXP],
 *     AIBOM_PLUGIN_PATHS (comma-separated), AIBOM_DIGEST_CACHE (1 or a folder),
 *     AIBOM_FAIL_ON_MISSING (1), AIBOM_ACCEPT_BOM (sha256:<hex>, a re-issued BOM to accept); paths relative to the working directory; they override the file.
 * Nothing configured is an error: the hook never lets an agent start unchecked.
 */
import { existsSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { getEnvironmentData, isMainThread } from 'node:worker_threads';
import { dirname, join, resolve } from 'node:path';
import { AibomError } from '../errors.js';
import { readTextBounded } from '../util/fs.js';
import { parseJsonText } from '../util/json.js';
import { duplicateKey, newLineCounter, parseYamlDocument } from '../util/yaml.js';
import { assertOwnedFile } from '../util/owner.js';
import type { VerifyPluginsOptions } from './types.js';
import { copyClaimOptions } from '../verification/claim-policy.js';
import { claimOptionsFromEnv } from './claim-env.js';

export const RUNTIME_CONFIG_FILES = ['aibom.runtime.json', 'aibom.runtime.yaml', 'aibom.runtime.yml'];
const MAX_CONFIG_BYTES = 256 * 1024;

const STRING_KEYS = [
  'bom',
  'bundle',
  'root',
  'policy',
  'trustedRoot',
  'key',
  'certificateIdentity',
  'certificateIdentityRegexp',
  'certificateOidcIssuer',
  'certificateOidcIssuerRegexp',
] as const;
/** Keys whose values are paths (resolved against the config file's folder). */
const PATH_KEYS = new Set(['bom', 'bundle', 'root', 'policy', 'trustedRoot', 'key']);
const ENV: Record<(typeof STRING_KEYS)[number], string> = {
  bom: 'AIBOM_BOM',
  bundle: 'AIBOM_BUNDLE',
  root: 'AIBOM_ROOT',
  policy: 'AIBOM_POLICY',
  trustedRoot: 'AIBOM_TRUSTED_ROOT',
  key: 'AIBOM_KEY',
  certificateIdentity: 'AIBOM_CERTIFICATE_IDENTITY',
  certificateIdentityRegexp: 'AIBOM_CERTIFICATE_IDENTITY_REGEXP',
  certificateOidcIssuer: 'AIBOM_CERTIFICATE_OIDC_ISSUER',
  certificateOidcIssuerRegexp: 'AIBOM_CERTIFICATE_OIDC_ISSUER_REGEXP',
};

export interface RuntimeConfig {
  options: VerifyPluginsOptions;
  /** The config file read, if any. */
  file?: string;
}

/** Where the main thread's hook leaves the agent root it checked, for worker threads (worker_threads environment data). */
export const AGENT_ROOT_KEY = 'aibom:agent-root';

function inheritedAgentRoot(): string | undefined {
  const root = getEnvironmentData(AGENT_ROOT_KEY);
  return typeof root === 'string' ? root : undefined;
}

/**
 * The script Node was started with, or undefined when there is none: with `-e`/`-p` code or a
 * program on stdin (`node -`), process.argv[1] is an argument of that code, not a script; in a
 * worker thread it is the worker's script.
 * `--entry-url` gives the entry as a URL.
 */
export function entryScript(argv: readonly string[] = process.argv, execArgv: readonly string[] = process.execArgv): string | undefined {
  // A worker thread's argv[1] is the worker's own script, not the agent's.
  if (!isMainThread) return undefined;
  if (execArgv.some((a) => /^(--eval|--print)(=|$)/.test(a) || /^-[a-z]*[ep][a-z]*$/i.test(a))) return undefined;
  const entry = argv[1];
  if (entry === undefined || entry === '-') return undefined;
  if (execArgv.includes('--entry-url')) {
    try {
      return fileURLToPath(new URL(entry));
    } catch {
      return undefined; // not a file: URL; nothing to take a folder of
    }
  }
  return entry;
}

/**
 * The folder of the entry script as Node runs it: a folder given as the entry is its
 * package.json `main` or index.js, a name without extension gets one, and symbolic links are
 * followed (Node runs the real file and resolves its imports from there), unless Node keeps
 * the link's path.
 */
function entryScriptFolder(cwd: string, entry: string): string {
  let file = resolve(cwd, entry);
  try {
    file = createRequire(join(cwd, 'entry.js')).resolve(file);
  } catch {
    // Node cannot run it either; the check still names a folder, the one given.
  }
  // Node runs the real file, unless told to keep the link's path (--preserve-symlinks-main).
  if (!process.execArgv.includes('--preserve-symlinks-main') && !/(^|\s)--preserve-symlinks-main(\s|$)/.test(process.env.NODE_OPTIONS ?? '')) {
    try {
      file = realpathSync(file);
    } catch {
      // Not there: the same.
    }
  }
  return dirname(file);
}

/**
 * Read the hook's configuration. `env`, `cwd` default to the process's; `entry` (the entry
 * script, default process.argv[1]) names the agent root when AIBOM_ROOT does not.
 */
export async function loadRuntimeConfig(env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd(), entry: string | undefined = entryScript()): Promise<RuntimeConfig> {
  const out: Partial<VerifyPluginsOptions> = {};
  let file: string | undefined;
  // A worker thread checks the root its main thread checked, never its own script's folder
  // (without one, and without AIBOM_ROOT, it has no agent root).
  const entryRoot = (isMainThread ? undefined : inheritedAgentRoot()) ?? (entry ? entryScriptFolder(cwd, entry) : undefined);
  if (env.AIBOM_CONFIG) file = resolve(cwd, env.AIBOM_CONFIG);
  else {
    const agentRoot = env.AIBOM_ROOT ? resolve(cwd, env.AIBOM_ROOT) : entryRoot;
    const found = agentRoot ? RUNTIME_CONFIG_FILES.map((f) => join(agentRoot, f)).filter((f) => existsSync(f)) : [];
    if (found.length > 1) {
      throw new AibomError('USAGE', `two runtime configs: ${found.join(' and ')}; keep one (or name it with AIBOM_CONFIG)`, { file: found[0]! });
    }
    file = found[0];
  }
  if (file) {
    assertOwnedFile(file, 'the runtime config');
    Object.assign(out, await readConfigFile(file));
    out.root ??= dirname(file);
  }
  for (const k of STRING_KEYS) {
    const v = env[ENV[k]];
    // As given: relative paths are relative to the working directory, and reports show them as the user wrote them.
    if (v !== undefined && v !== '') out[k] = v;
  }
  Object.assign(out, claimOptionsFromEnv(env));
  if (env.AIBOM_PLUGIN_PATHS) out.pluginPaths = env.AIBOM_PLUGIN_PATHS.split(',').map((s) => s.trim()).filter(Boolean);
  if (env.AIBOM_DIGEST_CACHE) out.cache = /^(1|true|yes|on)$/i.test(env.AIBOM_DIGEST_CACHE) ? true : env.AIBOM_DIGEST_CACHE;
  if (env.AIBOM_FAIL_ON_MISSING) out.failOnMissing = /^(1|true|yes|on)$/i.test(env.AIBOM_FAIL_ON_MISSING);
  if (env.AIBOM_ACCEPT_BOM) out.acceptBom = env.AIBOM_ACCEPT_BOM;
  if (out.bom === undefined) {
    throw new AibomError(
      'USAGE',
      `nothing to verify: set AIBOM_BOM (and the release identity: AIBOM_CERTIFICATE_IDENTITY + AIBOM_CERTIFICATE_OIDC_ISSUER, or AIBOM_KEY), or write ${RUNTIME_CONFIG_FILES[0]} (or point AIBOM_CONFIG at a config file)`,
      file ? { file } : {},
    );
  }
  // The agent root: the config's, AIBOM_ROOT, else the entry script's folder; never the working
  // directory (the library's default), which whoever starts the agent may choose.
  if (out.root === undefined) {
    if (entryRoot === undefined) {
      throw new AibomError('USAGE', 'no agent root: set AIBOM_ROOT (there is no entry script, e.g. node -e, to take the folder of)', file ? { file } : {});
    }
    out.root = entryRoot;
  }
  const options = { ...out, env } as VerifyPluginsOptions;
  return file ? { options, file } : { options };
}

async function readConfigFile(file: string): Promise<Partial<VerifyPluginsOptions>> {
  const text = await readTextBounded(file, MAX_CONFIG_BYTES, file);
  let data: unknown;
  if (/\.ya?ml$/i.test(file)) {
    const lc = newLineCounter();
    // Bounded (src/util/yaml.ts); duplicate keys by the one linear check (yaml's own is quadratic).
    const doc = parseYamlDocument(text, { prettyErrors: false, uniqueKeys: false, lineCounter: lc });
    if (doc.errors.length) throw new AibomError('INPUT', `not valid YAML: ${doc.errors[0]!.message.split('\n')[0]}`, { file });
    const dup = duplicateKey(doc);
    if (dup) throw new AibomError('INPUT', `line ${lc.linePos(dup.offset).line}: not valid YAML: duplicate key ${JSON.stringify(dup.key)}`, { file });
    data = doc.toJS({ maxAliasCount: 100 });
  } else data = parseJsonText(text, file, 16);
  const { validateRuntimeConfig } = await import('./config-schema.js');
  const problems = validateRuntimeConfig(data);
  if (problems.length) throw new AibomError('INPUT', `invalid aibom runtime config:\n  ${problems.join('\n  ')}`, { file });
  const raw = data as Record<string, unknown>;
  const base = dirname(file);
  const out: Partial<VerifyPluginsOptions> = {};
  for (const k of STRING_KEYS) {
    const v = raw[k];
    if (typeof v === 'string') out[k] = PATH_KEYS.has(k) ? resolve(base, v) : v;
  }
  copyClaimOptions(raw, out);
  if (Array.isArray(raw.pluginPaths)) out.pluginPaths = raw.pluginPaths as string[];
  if (raw.cache === true) out.cache = true;
  else if (typeof raw.cache === 'string') out.cache = resolve(base, raw.cache);
  if (typeof raw.failOnMissing === 'boolean') out.failOnMissing = raw.failOnMissing;
  return out;
}
