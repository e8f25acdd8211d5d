import { createRequire } from 'node:module';
import { lazy } from '../../util/lazy.js';
import { npmPurl, pypiPurl } from '../purl.js';
import { splitCommandLine } from './redact.js';

const require = createRequire(import.meta.url);

/** Loaded when an MCP server is launched by npm package spec (see lazy). */
const semver = lazy(() => require('semver') as typeof import('semver'));
/** Loaded for a container image's purl (see lazy). */
const purlLib = lazy(() => require('packageurl-js') as typeof import('packageurl-js'));

/**
 * How an MCP server runs and what exactly it runs: the launcher (npx, uvx, docker, ...),
 * the package or image, and whether that is pinned to immutable content. Input here is an
 * already-redacted command line (see redact.ts): nothing this module returns can hold a
 * secret that was not already removed.
 *
 * Pin rules: an exact npm version (`npx -y pkg@1.2.3`) or PyPI version (`uvx pkg==1.2.3`,
 * `uvx pkg@1.2.3`) is pinned (registries do not let a published version change); a missing
 * version, a range or a dist-tag such as `@latest` is not. A container image is pinned only by
 * digest (`image@sha256:...`); a tag can be moved. A git source is pinned by a full commit id.
 * A remote URL cannot be pinned at all. A local command is recorded but cannot be pinned.
 */

export type Transport = 'stdio' | 'http' | 'sse';

export type Launcher =
  | 'npx'
  | 'npm-exec'
  | 'pnpm-dlx'
  | 'yarn-dlx'
  | 'bunx'
  | 'uvx'
  | 'pipx'
  | 'docker'
  | 'podman'
  | 'binary'
  | 'url';

export interface LaunchedPackage {
  ecosystem: 'npm' | 'pypi' | 'docker' | 'git' | 'url' | 'path';
  /** The package or image as written (redacted). */
  spec: string;
  name?: string;
  /** npm scope or image namespace, when the name has one. */
  group?: string;
  version?: string;
  purl?: string;
  /** Image digest (`sha256:<hex>`), when pinned by digest. */
  digest?: string;
  /** Image tag, when given. */
  tag?: string;
}

export interface Pin {
  pinned: boolean;
  reason?: string;
}

export interface LaunchInfo extends Pin {
  launcher: Launcher;
  package?: LaunchedPackage;
  /** Names from `-e NAME` flags (container launchers). */
  envNames: string[];
  /** The shell or wrapper the server is started through (`sh -c`, `cmd /c`, `env`), when unwrapped. */
  wrapper?: string;
  /** Other packages the launcher installs and runs with it (`npx -p a -p b`, `uvx --with x`). */
  extraPackages?: string[];
}

/** The basename of a command without a Windows extension: `C:\...\npx.cmd` → `npx`. */
export function commandName(command: string): string {
  const base = command.split(/[\\/]/).pop() ?? command;
  return base.replace(/\.(cmd|exe|bat|ps1)$/i, '').toLowerCase();
}

/**
 * Analyze a stdio server's (redacted) command and arguments as the client will run them.
 * `envNames` are the names of the variables the config sets for the server: a registry or
 * index override there (npm_config_registry, UV_INDEX_URL, PIP_INDEX_URL...) or a variable
 * that loads other code (NODE_OPTIONS, PYTHONPATH, LD_PRELOAD...) makes the server unpinned,
 * whatever version it names. Shell wrappers (`sh -c`, `bash -lc`, `cmd /c`, `env`) are
 * unwrapped to the command they run; a shell line with more than one plain command, or a
 * PowerShell command, cannot be judged and is unpinned.
 */
export function analyzeCommand(command: string, args: readonly string[], envNames: readonly string[] = []): LaunchInfo {
  const info = analyzeUnwrapped(command, args, 0);
  const override = launcherOverride(info.launcher, envNames);
  if (override && info.pinned) {
    info.pinned = false;
    info.reason = override;
  }
  return info;
}

/** How deep wrappers may nest (`env sh -c "cmd /c npx ..."`). */
const MAX_WRAPPERS = 4;

const POSIX_SHELLS = new Set(['sh', 'bash', 'zsh', 'dash', 'ksh', 'ash', 'mksh', 'fish']);
/** Characters that make a shell line more than one plain command (or expand something). */
const POSIX_META = /[;&|<>`$(){}\n*?[\]!~]/;
const CMD_META = /[&|<>^%!()]/;

function analyzeUnwrapped(command: string, args: readonly string[], depth: number): LaunchInfo {
  const name = commandName(command);
  const unpinned = (launcher: Launcher, reason: string, wrapper?: string): LaunchInfo => {
    const out: LaunchInfo = { launcher, pinned: false, reason, envNames: [] };
    if (wrapper) out.wrapper = wrapper;
    return out;
  };
  if (POSIX_SHELLS.has(name) || name === 'cmd' || name === 'env' || name === 'powershell' || name === 'pwsh') {
    if (depth >= MAX_WRAPPERS) return unpinned('binary', `wrappers nested deeper than ${MAX_WRAPPERS} levels`, name);
    const inner = unwrap(name, args);
    if ('reason' in inner) return unpinned('binary', inner.reason, inner.wrapper);
    const info = analyzeUnwrapped(inner.command, inner.args, depth + 1);
    info.wrapper = info.wrapper ? `${inner.wrapper} ${info.wrapper}` : inner.wrapper;
    if (inner.envNames.length) {
      const override = launcherOverride(info.launcher, inner.envNames);
      if (override && info.pinned) {
        info.pinned = false;
        info.reason = override;
      }
    }
    return info;
  }
  switch (name) {
    case 'npx':
    case 'pnpx':
      return npmLike(name === 'npx' ? 'npx' : 'pnpm-dlx', args);
    case 'bunx':
      return npmLike('bunx', args);
    case 'npm':
      if (args[0] === 'exec' || args[0] === 'x') return npmLike('npm-exec', args.slice(1));
      break;
    case 'pnpm':
      if (args[0] === 'dlx') return npmLike('pnpm-dlx', args.slice(1));
      if (args[0] === 'exec') break;
      break;
    case 'yarn':
      if (args[0] === 'dlx') return npmLike('yarn-dlx', args.slice(1));
      break;
    case 'bun':
      if (args[0] === 'x') return npmLike('bunx', args.slice(1));
      break;
    case 'uvx':
      return pythonLike('uvx', args);
    case 'uv':
      if (args[0] === 'tool' && args[1] === 'run') return pythonLike('uvx', args.slice(2));
      break;
    case 'pipx':
      if (args[0] === 'run') return pythonLike('pipx', args.slice(1));
      break;
    case 'docker':
    case 'podman': {
      const rest = args[0] === 'container' ? args.slice(1) : args;
      if (rest[0] === 'run') return containerLike(name, rest.slice(1));
      break;
    }
  }
  return {
    launcher: 'binary',
    pinned: false,
    reason: `runs the local command "${command}"; aibom records it but cannot pin what it runs`,
    envNames: [],
  };
}

type Unwrapped = { command: string; args: string[]; wrapper: string; envNames: string[] } | { reason: string; wrapper: string };

/** The command a shell or wrapper runs, or why it cannot be told. */
function unwrap(name: string, args: readonly string[]): Unwrapped {
  if (name === 'powershell' || name === 'pwsh') {
    return { reason: 'runs a PowerShell command; aibom does not interpret PowerShell, so what it runs cannot be pinned', wrapper: name };
  }
  if (name === 'env') {
    // env [-i] [-u NAME] [NAME=VALUE]... COMMAND [ARG]...
    const envNames: string[] = [];
    let i = 0;
    for (; i < args.length; i++) {
      const a = args[i]!;
      if (a === '-u' || a === '--unset' || a === '-C' || a === '--chdir') i++;
      else if (a === '-S' || a.startsWith('--split-string') || a.startsWith('-S')) {
        return { reason: 'env -S splits a command line; aibom cannot pin what it runs', wrapper: 'env' };
      } else if (a.startsWith('-')) continue;
      else if (/^[A-Za-z_][A-Za-z0-9_.@:-]*=/.test(a)) envNames.push(a.slice(0, a.indexOf('=')));
      else break;
    }
    if (i >= args.length) return { reason: 'env without a command', wrapper: 'env' };
    return { command: args[i]!, args: args.slice(i + 1), wrapper: 'env', envNames };
  }
  if (name === 'cmd') {
    // cmd [/d] [/q] [/s] [/e:on] [/v:on] /c|/k LINE...
    let i = 0;
    while (i < args.length && /^\/[a-z]([:].*)?$/i.test(args[i]!) && !/^\/[ck]$/i.test(args[i]!)) i++;
    if (i >= args.length || !/^\/[ck]$/i.test(args[i]!)) return { reason: 'runs cmd without /c; aibom cannot tell what it runs', wrapper: 'cmd' };
    const wrapper = `cmd ${args[i]!.toLowerCase()}`;
    const rest = args.slice(i + 1);
    if (rest.some((a) => CMD_META.test(a))) {
      return { reason: `${wrapper} runs a command line with shell operators; aibom cannot pin what it runs`, wrapper };
    }
    const words = rest.length === 1 ? splitCommandLine(rest[0]!) : [...rest];
    if (!words.length) return { reason: `${wrapper} without a command`, wrapper };
    return { command: words[0]!, args: words.slice(1), wrapper, envNames: [] };
  }
  // POSIX shells: [options] -c SCRIPT [NAME [ARGS...]]; options may be combined (-lc, -ec).
  let i = 0;
  let script: string | undefined;
  for (; i < args.length; i++) {
    const a = args[i]!;
    if (/^-[A-Za-z]*c[A-Za-z]*$/.test(a)) {
      script = args[i + 1];
      break;
    }
    if (a === '-o' || a === '+o' || a === '--rcfile' || a === '--init-file') {
      i++;
      continue;
    }
    if (!a.startsWith('-') && !a.startsWith('+')) break;
  }
  const wrapper = `${name} -c`;
  if (script === undefined) {
    return { reason: `runs the shell ${name} with a script file or standard input; aibom cannot pin what it runs`, wrapper: name };
  }
  if (POSIX_META.test(script)) {
    return { reason: `${wrapper} runs a shell line with operators or expansions; aibom cannot pin what it runs`, wrapper };
  }
  let words = splitCommandLine(script);
  if (words[0] === 'exec') words = words.slice(1);
  if (!words.length) return { reason: `${wrapper} with an empty script`, wrapper };
  const envNames: string[] = [];
  while (words.length && /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[0]!)) envNames.push(words.shift()!.split('=')[0]!);
  if (!words.length) return { reason: `${wrapper} with no command`, wrapper };
  return { command: words[0]!, args: words.slice(1), wrapper, envNames };
}

/**
 * Variables that make a launched program load other code, by family (a name list would miss
 * the next one): the dynamic loader's and glibc's (LD_*, DYLD_*, GCONV_PATH), every runtime's
 * own start-up settings (NODE_*, PYTHON*, PERL5*, RUBY*, Java's option variables, DENO_*, BUN_*,
 * Lua, Tcl, R, PHP, .NET start-up hooks and profilers), the shells' start-up files and traps
 * (BASH_ENV, ENV, BASH_FUNC_*, SHELLOPTS, PS4, PROMPT_COMMAND), where programs look for code
 * and config (PATH, HOME, XDG_*, APPDATA, CLASSPATH, OPENSSL_CONF and engines, GIT_* commands).
 */
const CODE_LOADING_ENV =
  /^(PATH|PATHEXT|HOME|USERPROFILE|APPDATA|LOCALAPPDATA|XDG_[A-Z_]+|LD_[A-Z_]+|DYLD_[A-Z_]+|GCONV_PATH|NODE_[A-Z_]+|ELECTRON_RUN_AS_NODE|PYTHON[A-Z_]*|PERL5?[A-Z_]*|PERLLIB|RUBY[A-Z_]*|GEM_[A-Z_]+|BUNDLE_[A-Z_]+|JAVA_TOOL_OPTIONS|_JAVA_OPTIONS|JDK_JAVA_OPTIONS|CLASSPATH|DENO_[A-Z_]+|BUN_[A-Z_]+|LUA_[A-Z_0-9]+|TCLLIBPATH|R_PROFILE(_USER)?|R_LIBS[A-Z_]*|R_ENVIRON(_USER)?|PHPRC|PHP_INI_SCAN_DIR|DOTNET_[A-Z_]+|CORECLR_[A-Z_]+|COR_[A-Z_]+|BASH_ENV|ENV|BASH_FUNC_.*|SHELLOPTS|BASHOPTS|PS4|PROMPT_COMMAND|ZDOTDIR|OPENSSL_CONF|OPENSSL_ENGINES|OPENSSL_MODULES|GIT_[A-Z_]+|VIRTUAL_ENV|CONDA_PREFIX)$/i;
/** npm-family settings that move where packages come from (registry, config files). */
const NPM_SOURCE_ENV = /^(npm_config_(.*registry|userconfig|globalconfig|replace_registry_host)|yarn_(npm_)?registry(_server)?|yarn_rc_filename|bun_config_registry|bunfig|pnpm_config_registry)$/i;
/** uv / pip / pipx settings that move where packages come from. */
const PY_SOURCE_ENV = /^(uv_(index|index_url|extra_index_url|default_index|find_links|config_file|index_strategy|insecure_host)|pip_(index_url|extra_index_url|find_links|config_file|trusted_host)|pipx_default_python|uv_python_install_mirror)$/i;

/** Why a variable in the server's environment makes its launch unpinned, if one does. */
export function launcherOverride(launcher: Launcher, envNames: readonly string[]): string | undefined {
  for (const n of envNames) {
    if (CODE_LOADING_ENV.test(n)) return `its environment sets ${n}, which changes what code runs`;
    const npm = launcher === 'npx' || launcher === 'npm-exec' || launcher === 'pnpm-dlx' || launcher === 'yarn-dlx' || launcher === 'bunx';
    if (npm && NPM_SOURCE_ENV.test(n)) return `its environment sets ${n}: packages come from another registry or npm config`;
    if ((launcher === 'uvx' || launcher === 'pipx') && PY_SOURCE_ENV.test(n)) {
      return `its environment sets ${n}: packages come from another index`;
    }
  }
  return undefined;
}

// ---------------------------------------------------------------- npm (npx, pnpm dlx, bunx...)

/** Options of npx / npm exec / pnpm dlx / yarn dlx / bunx that take a value. */
const NPM_VALUE_OPTIONS = new Set([
  '-p',
  '--package',
  '-c',
  '--call',
  '--registry',
  '--cache',
  '--userconfig',
  '--prefix',
  '-w',
  '--workspace',
  '--node-options',
  '--shell',
  '--script-shell',
  '--loglevel',
  '--dir',
  '-C',
]);

/** Flags that point npm at another registry or config file (`--registry`, `--@scope:registry`, `--userconfig`). */
const NPM_SOURCE_FLAG = /^--(@[^=:\s]+:)?registry$|^--(userconfig|globalconfig|replace-registry-host)$/;

function npmLike(launcher: Launcher, args: readonly string[]): LaunchInfo {
  const packages: string[] = [];
  let positional: string | undefined;
  let shellLine = false;
  let override: string | undefined;
  let codeFlag: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') {
      positional = args[i + 1];
      break;
    }
    if (a.startsWith('-') && a.length > 1) {
      const eq = a.indexOf('=');
      const flag = eq > 0 ? a.slice(0, eq) : a;
      if (NPM_SOURCE_FLAG.test(flag)) override ??= flag;
      if (flag === '--node-options') codeFlag ??= flag;
      if (flag === '-c' || flag === '--call') shellLine = true;
      if (eq > 0) {
        if (flag === '--package' || flag === '-p') packages.push(a.slice(eq + 1));
        continue;
      }
      if (NPM_VALUE_OPTIONS.has(a) || NPM_SOURCE_FLAG.test(a)) {
        if (a === '-p' || a === '--package') {
          const v = args[i + 1];
          if (v !== undefined) packages.push(v);
        }
        i++;
      }
      continue;
    }
    positional = a;
    break;
  }
  // With --package the positional word is the command to run from them; without, the package.
  const specs = packages.length ? packages : positional ? [positional] : [];
  if (!specs.length) {
    return { launcher, pinned: false, reason: shellLine ? 'runs a shell command line (-c); aibom cannot pin what it runs' : 'no package to run found in the arguments', envNames: [] };
  }
  const parsed = specs.map((s) => parseNpmSpec(s));
  // The package the server is: the first one that is not pinned (what makes it unsafe), else the first.
  const main = parsed.find((p) => !p.pin.pinned) ?? parsed[0]!;
  const info: LaunchInfo = { launcher, package: main.package, ...main.pin, envNames: [] };
  if (specs.length > 1) info.extraPackages = specs.filter((s) => s !== main.package.spec);
  if (info.pinned && shellLine) {
    info.pinned = false;
    info.reason = 'runs a shell command line (-c) beside its packages; aibom cannot pin what it runs';
  }
  if (info.pinned && override) {
    info.pinned = false;
    info.reason = `${override} points npm at another registry or config: the version does not pin the content`;
  }
  if (info.pinned && codeFlag) {
    info.pinned = false;
    info.reason = `${codeFlag} makes Node load other code beside the package`;
  }
  return info;
}

const FULL_COMMIT = /^[0-9a-f]{40}$/i;

export function parseNpmSpec(spec: string): { package: LaunchedPackage; pin: Pin } {
  // Non-registry sources first.
  if (/^(git\+|git:|github:|gitlab:|bitbucket:|gist:)/.test(spec) || /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+(#.*)?$/.test(spec)) {
    const ref = spec.includes('#') ? spec.slice(spec.lastIndexOf('#') + 1).replace(/^commit=/, '') : '';
    return {
      package: { ecosystem: 'git', spec },
      pin: FULL_COMMIT.test(ref)
        ? { pinned: true }
        : { pinned: false, reason: `git source "${spec}" without a full commit id` },
    };
  }
  if (/^https?:\/\//.test(spec)) {
    return { package: { ecosystem: 'url', spec }, pin: { pinned: false, reason: `tarball URL "${spec}" without an integrity hash` } };
  }
  if (/^(file:|\.{1,2}[\\/]|[\\/]|~[\\/]|[A-Za-z]:[\\/])/.test(spec)) {
    return {
      package: { ecosystem: 'path', spec },
      pin: { pinned: false, reason: `local path "${spec}": aibom records it but cannot pin it` },
    };
  }
  const at = spec.indexOf('@', spec.startsWith('@') ? 1 : 0);
  const name = at < 0 ? spec : spec.slice(0, at);
  const version = at < 0 ? undefined : spec.slice(at + 1);
  const pkg: LaunchedPackage = { ecosystem: 'npm', spec, name };
  if (name.startsWith('@') && name.includes('/')) pkg.group = name.slice(0, name.indexOf('/'));
  let pin: Pin;
  if (version === undefined || version === '') {
    pin = { pinned: false, reason: `no version: runs whatever the newest release of ${name} is` };
  } else if (semver().valid(version)) {
    pin = { pinned: true };
    pkg.version = semver().valid(version)!;
  } else if (semver().validRange(version)) {
    pin = { pinned: false, reason: `version range "${version}" instead of an exact version` };
    pkg.version = version;
  } else {
    pin = { pinned: false, reason: `dist-tag "${version}" can move to another release` };
    pkg.version = version;
  }
  try {
    pkg.purl = npmPurl(name, pin.pinned ? pkg.version : undefined);
  } catch {
    // not a valid package name: no purl
  }
  return { package: pkg, pin };
}

// ---------------------------------------------------------------- Python (uvx, pipx)

/** uvx / uv tool run / pipx run options that take a value. */
const PY_VALUE_OPTIONS = new Set([
  '--from',
  '--spec',
  '--with',
  '-w',
  '--with-editable',
  '--with-requirements',
  '--python',
  '-p',
  '--index',
  '--index-url',
  '-i',
  '--extra-index-url',
  '--default-index',
  '--find-links',
  '-f',
  '--constraints',
  '-c',
  '--overrides',
  '--build-constraints',
  '-b',
  '--config-file',
  '--cache-dir',
  '--directory',
  '--project',
  '--env-file',
  '--refresh-package',
  '--reinstall-package',
  '--upgrade-package',
  '-P',
  '--python-preference',
  '--index-strategy',
  '--keyring-provider',
  '--resolution',
  '--prerelease',
  '--exclude-newer',
  '--exclude-newer-package',
  '--link-mode',
  '--color',
  '--allow-insecure-host',
  '--python-platform',
  '--no-binary-package',
  '--no-build-package',
  '--config-setting',
  '-C',
  '--torch-backend',
  '--pip-args',
  '--backend',
]);

/** uv / pipx flags that add or replace where packages come from. */
const PY_SOURCE_FLAG = new Set([
  '--index',
  '--index-url',
  '-i',
  '--extra-index-url',
  '--default-index',
  '--find-links',
  '-f',
  '--config-file',
  '--pip-args',
  '--allow-insecure-host',
  '--trusted-host',
]);
/** Flags that install more packages beside the tool. */
const PY_WITH_FLAG = new Set(['--with', '-w']);
const PY_UNPINNABLE_WITH = new Set(['--with-requirements', '--with-editable', '--editable', '-e']);

function pythonLike(launcher: Launcher, args: readonly string[]): LaunchInfo {
  let from: string | undefined;
  let positional: string | undefined;
  const extra: string[] = [];
  let override: string | undefined;
  let unpinnable: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') {
      positional = args[i + 1];
      break;
    }
    if (a.startsWith('-') && a.length > 1) {
      const eq = a.indexOf('=');
      const flag = eq > 0 ? a.slice(0, eq) : a;
      const value = eq > 0 ? a.slice(eq + 1) : args[i + 1];
      if (PY_SOURCE_FLAG.has(flag)) override ??= flag;
      if (PY_UNPINNABLE_WITH.has(flag)) unpinnable ??= flag;
      if (PY_WITH_FLAG.has(flag) && value !== undefined) extra.push(value);
      if ((flag === '--from' || flag === '--spec') && value !== undefined) from = value;
      // An interpreter named by path (not a version request such as 3.12) is whatever that file is.
      if ((flag === '--python' || flag === '-p') && value !== undefined && /[\\/]/.test(value)) unpinnable ??= `${flag} ${value}`;
      if (eq < 0 && (PY_VALUE_OPTIONS.has(a) || PY_SOURCE_FLAG.has(a) || PY_UNPINNABLE_WITH.has(a))) i++;
      continue;
    }
    positional = a;
    break;
  }
  const spec = from ?? positional;
  if (!spec) return { launcher, pinned: false, reason: 'no package to run found in the arguments', envNames: [] };
  const pkg = parsePythonSpec(spec, launcher);
  const info: LaunchInfo = { launcher, package: pkg.package, ...pkg.pin, envNames: [] };
  if (extra.length) info.extraPackages = extra;
  if (!info.pinned) return info;
  for (const e of extra) {
    const p = parsePythonSpec(e, launcher);
    if (!p.pin.pinned) return { ...info, pinned: false, reason: `installs the extra package "${e}" unpinned: ${p.pin.reason ?? 'not an exact version'}` };
  }
  if (unpinnable) {
    const reason = /^(-p|--python) /.test(unpinnable) ? `${unpinnable}: runs an interpreter from a path aibom cannot pin` : `${unpinnable} installs packages aibom cannot pin`;
    return { ...info, pinned: false, reason };
  }
  if (override) return { ...info, pinned: false, reason: `${override} adds or replaces the package index: the version does not pin the content` };
  return info;
}

/** PEP 440 version, loosely (enough to tell an exact version from a range or a tag). */
const PEP440 = /^v?[0-9]+(\.[0-9]+)*((a|b|rc|alpha|beta|c|pre|preview)[0-9]*)?(\.?post[0-9]*)?(\.?dev[0-9]*)?(\+[A-Za-z0-9.]+)?$/i;
const PY_NAME = /^([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)(\[[^\]]*\])?\s*(.*)$/s;

export function parsePythonSpec(spec: string, launcher: Launcher = 'uvx'): { package: LaunchedPackage; pin: Pin } {
  // Direct references: `name @ git+https://...@rev`, `git+https://...@rev`, URLs, paths.
  const direct = /^(?:[A-Za-z0-9._-]+(?:\[[^\]]*\])?\s*@\s*)?((?:git\+)?[A-Za-z][A-Za-z0-9+.-]*:\/\/.*)$/s.exec(spec);
  if (direct) {
    const url = direct[1]!;
    if (/^git\+/.test(url)) {
      const path = url.replace(/#[\s\S]*$/, '');
      const rev = /@([^@/]+)$/.exec(path)?.[1] ?? '';
      return {
        package: { ecosystem: 'git', spec },
        pin: FULL_COMMIT.test(rev) ? { pinned: true } : { pinned: false, reason: `git source "${spec}" without a full commit id` },
      };
    }
    const hashed = /#(sha256|sha384|sha512)=[0-9a-f]+/i.test(url);
    return {
      package: { ecosystem: 'url', spec },
      pin: hashed ? { pinned: true } : { pinned: false, reason: `URL "${spec}" without a hash` },
    };
  }
  if (/^(\.{1,2}[\\/]|[\\/]|~[\\/]|[A-Za-z]:[\\/]|file:)/.test(spec)) {
    return {
      package: { ecosystem: 'path', spec },
      pin: { pinned: false, reason: `local path "${spec}": aibom records it but cannot pin it` },
    };
  }
  const m = PY_NAME.exec(spec.trim());
  if (!m) return { package: { ecosystem: 'pypi', spec }, pin: { pinned: false, reason: `cannot read the package spec "${spec}"` } };
  const name = m[1]!;
  const rest = (m[3] ?? '').trim();
  const pkg: LaunchedPackage = { ecosystem: 'pypi', spec, name };
  let pin: Pin | undefined;
  let exact: string | undefined;
  if (!rest) {
    pin = { pinned: false, reason: `no version: ${launcher} runs whatever the newest release of ${name} is` };
  } else if (rest.startsWith('@')) {
    // uvx's own `tool@version` / `tool@latest`.
    const v = rest.slice(1).trim();
    if (PEP440.test(v)) exact = v;
    else pin = { pinned: false, reason: `"${v}" is not an exact version` };
  } else {
    const clauses = rest.split(',').map((c) => c.trim());
    const only = clauses.length === 1 ? /^(===?)\s*([\s\S]+)$/.exec(clauses[0]!) : null;
    if (only && !only[2]!.includes('*') && (only[1] === '===' || PEP440.test(only[2]!.trim()))) exact = only[2]!.trim();
    else pin = { pinned: false, reason: `version range "${rest}" instead of an exact version` };
  }
  if (exact !== undefined) {
    pin = { pinned: true };
    pkg.version = exact;
  } else if (rest) pkg.version = rest.replace(/^@/, '');
  try {
    pkg.purl = pypiPurl(name, exact);
  } catch {
    // not a valid name: no purl
  }
  return { package: pkg, pin: pin ?? { pinned: false, reason: `cannot read the version in "${spec}"` } };
}

// ---------------------------------------------------------------- containers (docker run, podman run)

/** `docker run` / `podman run` options that take a value (the next argument). */
const CONTAINER_VALUE_OPTIONS = new Set(
  (
    '-a --attach --add-host --annotation --blkio-weight --blkio-weight-device --cap-add --cap-drop --cgroup-parent ' +
    '--cgroupns --cidfile --cpu-period --cpu-quota --cpu-rt-period --cpu-rt-runtime -c --cpu-shares --cpus ' +
    '--cpuset-cpus --cpuset-mems --device --device-cgroup-rule --device-read-bps --device-read-iops ' +
    '--device-write-bps --device-write-iops --dns --dns-option --dns-search --domainname --entrypoint -e --env ' +
    '--env-file --expose --gpus --group-add --health-cmd --health-interval --health-retries --health-start-period ' +
    '--health-start-interval --health-timeout -h --hostname --ip --ip6 --ipc --isolation --kernel-memory -l --label ' +
    '--label-file --link --link-local-ip --log-driver --log-opt --mac-address -m --memory --memory-reservation ' +
    '--memory-swap --memory-swappiness --mount --name --network --net --network-alias --net-alias --oom-score-adj ' +
    '--pid --pids-limit --platform -p --publish --pull --restart --runtime --security-opt --shm-size --stop-signal ' +
    '--stop-timeout --storage-opt --sysctl --tmpfs --ulimit -u --user --userns --uts -v --volume --volume-driver ' +
    '--volumes-from -w --workdir --detach-keys --pod --secret --arch --os --variant --authfile --cert-dir --creds ' +
    '--decryption-key --env-merge --hooks-dir --init-path --passwd-entry --pidfile --preserve-fds --requires ' +
    '--rootfs --sdnotify --seccomp-policy --subgidname --subuidname --timeout --tz --umask --unsetenv --uidmap --gidmap'
  ).split(' '),
);

function containerLike(launcher: 'docker' | 'podman', args: readonly string[]): LaunchInfo {
  const envNames = new Set<string>();
  let image: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') {
      image = args[i + 1];
      break;
    }
    if (a.startsWith('-') && a.length > 1) {
      const eq = a.indexOf('=');
      const flag = eq > 0 ? a.slice(0, eq) : a;
      if (flag === '-e' || flag === '--env') {
        const v = eq > 0 ? a.slice(eq + 1) : args[i + 1];
        const n = v?.split('=')[0];
        if (n) envNames.add(n);
      } else if (/^-e[A-Za-z_]/.test(a)) {
        envNames.add(a.slice(2).split('=')[0]!);
      }
      if (eq < 0 && CONTAINER_VALUE_OPTIONS.has(a)) i++;
      continue;
    }
    image = a;
    break;
  }
  if (!image) return { launcher, pinned: false, reason: 'no image found in the arguments', envNames: [...envNames] };
  const { package: pkg, pin } = parseImageRef(image);
  return { launcher, package: pkg, ...pin, envNames: [...envNames].sort() };
}

/** `[registry/]path/name[:tag][@sha256:hex]` */
export function parseImageRef(ref: string): { package: LaunchedPackage; pin: Pin } {
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  const parts = rest.split('/');
  let registry: string | undefined;
  if (parts.length > 1 && /[.:]|^localhost$/.test(parts[0]!)) registry = parts.shift();
  const name = parts.pop() ?? rest;
  const namespace = parts.length ? parts.join('/') : undefined;
  const pkg: LaunchedPackage = { ecosystem: 'docker', spec: ref, name: namespace ? `${namespace}/${name}` : name };
  if (registry) pkg.group = registry;
  if (tag) pkg.tag = tag;
  const validDigest = digest !== undefined && /^(sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128})$/.test(digest);
  let pin: Pin;
  if (validDigest) {
    pkg.digest = digest!;
    pkg.version = digest!;
    pin = { pinned: true };
  } else if (digest !== undefined) {
    pin = { pinned: false, reason: `"${digest}" is not a valid image digest` };
    if (tag) pkg.version = tag;
  } else if (tag) {
    pkg.version = tag;
    pin = { pinned: false, reason: `image tag "${tag}" can be moved to other content; pin by digest (image@sha256:...)` };
  } else {
    pin = { pinned: false, reason: 'no tag or digest: runs whatever "latest" is; pin by digest (image@sha256:...)' };
  }
  try {
    const q: Record<string, string> = {};
    if (registry) q.repository_url = registry;
    pkg.purl = new (purlLib().PackageURL)(
      'docker',
      namespace,
      name,
      validDigest ? digest : tag,
      Object.keys(q).length ? q : undefined,
      undefined,
    ).toString();
  } catch {
    // unusable name: no purl
  }
  return { package: pkg, pin };
}

// ---------------------------------------------------------------- transports

/** The transport a server definition declares or implies. */
export function transportOf(def: Record<string, unknown>, url: string | undefined): Transport | string {
  const declared = typeof def.type === 'string' ? def.type : typeof def.transport === 'string' ? def.transport : undefined;
  if (declared) {
    const t = declared.toLowerCase().replace(/[_\s]/g, '-');
    if (t === 'stdio') return 'stdio';
    if (t === 'sse') return 'sse';
    if (t === 'http' || t === 'streamable-http' || t === 'streamablehttp' || t === 'https') return 'http';
    if (/^[a-z0-9-]{1,32}$/.test(t)) return t;
  }
  if (url) {
    try {
      return /\/sse\/?$/.test(new URL(url).pathname) ? 'sse' : 'http';
    } catch {
      return 'http';
    }
  }
  return 'stdio';
}
