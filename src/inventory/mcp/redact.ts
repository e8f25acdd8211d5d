/**
 * Keeping secrets out of the BOM. MCP client configs carry credentials: `env` and `headers`
 * values (never read by aibom beyond their names), but also command-line arguments
 * (`--api-key=...`, `-e TOKEN=...`, `--header "Authorization: Bearer ..."`) and URLs
 * (`https://user:token@host/`, `?api_key=...`, tokens as path segments). Everything from a
 * server definition that reaches the BOM passes through here first.
 *
 * The rules are heuristics and deliberately over-redact: a redacted harmless value costs a
 * little detail, a leaked token costs a credential rotation.
 */

export const REDACTED = 'REDACTED';

/** Words that make a flag, variable or parameter name a secret's name. */
const SECRET_WORDS = new Set([
  'key',
  'keys',
  'apikey',
  'apikeys',
  'token',
  'tokens',
  'secret',
  'secrets',
  'password',
  'passwords',
  'passwd',
  'pwd',
  'pass',
  'passphrase',
  'auth',
  'authorization',
  'credential',
  'credentials',
  'cred',
  'creds',
  'cookie',
  'cookies',
  'session',
  'bearer',
  'sig',
  'signature',
  'pat',
  'jwt',
  'otp',
  'privatekey',
  'accesskey',
  'secretkey',
  'clientsecret',
]);

/** Split `OPENAI_API_KEY`, `apiKey`, `--api-key`, `x-api-key` into lowercase words. */
function words(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w.toLowerCase());
}

/** Does this name (flag, env var, header, query parameter) name a secret? */
export function isSecretName(name: string): boolean {
  const ws = words(name);
  if (ws.some((w) => SECRET_WORDS.has(w))) return true;
  // Run-together names: "apikey", "accesstoken", "clientsecret", "authtoken".
  const joined = ws.join('');
  return /(apikey|token|secret|password|passwd|credential|privatekey|accesskey|bearer)/.test(joined);
}

/** Known credential formats, and long opaque strings that look like one. */
const SECRET_SHAPES: RegExp[] = [
  /^(sk|rk|pk)[-_](live|test|proj|ant|or)?[-_]?[A-Za-z0-9_-]{16,}$/, // OpenAI, Stripe, Anthropic, OpenRouter
  /^sk-[A-Za-z0-9_-]{16,}$/,
  /^(ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{20,}$/, // GitHub tokens
  /^github_pat_[A-Za-z0-9_]{20,}$/,
  /^glpat-[A-Za-z0-9_-]{16,}$/, // GitLab
  /^xox[abposr]-[A-Za-z0-9-]{10,}$/, // Slack
  /^(AKIA|ASIA)[0-9A-Z]{16}$/, // AWS access key id
  /^AIza[0-9A-Za-z_-]{30,}$/, // Google API key
  /^hf_[A-Za-z0-9]{20,}$/, // Hugging Face
  /^npm_[A-Za-z0-9]{30,}$/,
  /^pypi-[A-Za-z0-9_-]{30,}$/,
  /^eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*$/, // JWT
  /^-----BEGIN [A-Z ]*PRIVATE KEY-----/,
];

/** A bare value that looks like a credential by its shape alone. */
export function looksLikeSecret(value: string): boolean {
  const v = value.trim();
  if (v.length < 16) return false;
  if (SECRET_SHAPES.some((re) => re.test(v))) return true;
  if (v.length >= 32 && /^[A-Za-z0-9_\-+/=]+$/.test(v)) {
    // Long hex (API keys, HMACs) or mixed-case alphanumerics with digits (base64-ish tokens).
    // Lowercase words with hyphens (package names) and paths do not qualify.
    if (/^[0-9a-fA-F]{32,}$/.test(v)) return true;
    if (/[a-z]/.test(v) && /[A-Z]/.test(v) && /[0-9]/.test(v) && !v.includes('/')) return true;
  }
  return false;
}

const URL_LIKE = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;

/**
 * A URL without credentials: user info removed, every query value replaced, a fragment that
 * carries parameters dropped, and path segments that look like tokens replaced.
 */
export function sanitizeUrl(raw: string): string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return sanitizeUnparsableUrl(raw);
  }
  u.username = '';
  u.password = '';
  if (u.search) {
    const parts: string[] = [];
    for (const [k] of new URLSearchParams(u.search)) parts.push(`${encodeURIComponent(k)}=${REDACTED}`);
    u.search = parts.length ? `?${parts.join('&')}` : '';
  }
  if (u.hash && /[=&]/.test(u.hash)) u.hash = '';
  const segments = u.pathname.split('/').map((s) => {
    let decoded = s;
    try {
      decoded = decodeURIComponent(s);
    } catch {
      // keep as is
    }
    return looksLikeSecret(decoded) ? REDACTED : s;
  });
  u.pathname = segments.join('/');
  return u.href;
}

/** Best effort for something URL-shaped that `URL` refuses: cut user info, query and fragment. */
function sanitizeUnparsableUrl(raw: string): string {
  return raw
    .replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^/?#]*@/, '$1')
    .replace(/\?.*$/s, `?${REDACTED}`)
    .replace(/#.*$/s, '');
}

/** One token of a command line, on its own (no look at its neighbours). */
export function sanitizeToken(token: string): string {
  if (URL_LIKE.test(token)) return sanitizeUrl(token);
  // git+ssh style `user:pass@host:path` and scp-like `token@host:path` keep only the host part.
  if (/^[^\s/@:]+:[^\s/@]+@[^\s/]+/.test(token)) return token.replace(/^[^@]*@/, `${REDACTED}@`);
  // -eNAME=value (docker's short form with the value attached)
  const shortEnv = /^-e([A-Za-z_][A-Za-z0-9_]*)=/.exec(token);
  if (shortEnv) return `-e${shortEnv[1]}=${REDACTED}`;
  // --flag=value
  const eq = /^(--?[A-Za-z0-9][A-Za-z0-9_.-]*)=(.*)$/s.exec(token);
  if (eq) {
    const [, flag, value] = eq as unknown as [string, string, string];
    if (isSecretName(flag)) return `${flag}=${REDACTED}`;
    // --env=KEY=value, --header=Name: value
    if (/^--?(e|env)$/i.test(flag)) return `${flag}=${redactAssignment(value)}`;
    if (/^--?(h|header)$/i.test(flag)) return `${flag}=${redactHeader(value)}`;
    return `${flag}=${sanitizeToken(value)}`;
  }
  // NAME=value: an environment assignment (an all-caps name) or a secret-named setting.
  const assign = /^([A-Za-z_][A-Za-z0-9_.-]*)=(.*)$/s.exec(token);
  if (assign) {
    const [, name, value] = assign as unknown as [string, string, string];
    if (/^[A-Z_][A-Z0-9_]*$/.test(name) || isSecretName(name)) return `${name}=${REDACTED}`;
    return `${name}=${sanitizeToken(value)}`;
  }
  if (looksLikeSecret(token)) return REDACTED;
  return redactHome(token);
}

/** `/home/NAME`, `/Users/NAME`, `C:\\Users\\NAME` at the start of a path: the user's name is personal data. */
const HOME_PREFIX = /^(?:\/home\/[^/\s]+|\/Users\/[^/\s]+|\/var\/home\/[^/\s]+|[A-Za-z]:[\\/](?:Users|Documents and Settings)[\\/][^\\/\s]+)(?=$|[\\/])/i;

/** A path in a home folder with the home folder written as `~` (counted as a redaction). */
export function redactHome(token: string): string {
  const m = HOME_PREFIX.exec(token);
  return m ? `~${token.slice(m[0].length)}` : token;
}

/** `KEY=value` → `KEY=REDACTED`; a bare `KEY` (value from the environment) stays. */
function redactAssignment(v: string): string {
  const i = v.indexOf('=');
  return i < 0 ? v : `${v.slice(0, i)}=${REDACTED}`;
}

/** `Name: value` → `Name: REDACTED`. */
function redactHeader(v: string): string {
  const i = v.indexOf(':');
  return i < 0 ? REDACTED : `${v.slice(0, i)}: ${REDACTED}`;
}

/** Flags whose next argument is a value that must not be copied, whatever it looks like. */
function valueIsSecret(flag: string): boolean {
  if (!/^--?[A-Za-z]/.test(flag) || flag.includes('=')) return false;
  if (/^--no-/.test(flag)) return false;
  return isSecretName(flag);
}

export interface RedactedArgs {
  args: string[];
  /** How many values were replaced. */
  redactions: number;
  /** Names from `-e NAME[=value]` / `--env NAME[=value]` (docker, podman, env-style launchers). */
  envNames: string[];
  /** Names from `-H "Name: value"` / `--header "Name: value"`. */
  headerNames: string[];
}

/**
 * Redact a command line's arguments: values of secret-named flags (`--api-key x`,
 * `--token=x`), env assignments (`-e KEY=x`, `KEY=x`), header values (`-H "Authorization: x"`),
 * URL credentials, and anything shaped like a token. An argument holding a whole shell line
 * (`sh -c "..."`) is redacted word by word.
 */
export function redactArgs(args: readonly string[]): RedactedArgs {
  const out: string[] = [];
  const envNames = new Set<string>();
  const headerNames = new Set<string>();
  let redactions = 0;
  const push = (original: string, value: string) => {
    if (value !== original) redactions++;
    out.push(value);
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const next = args[i + 1];
    if (/^(-e|--env)$/.test(a) && next !== undefined) {
      out.push(a);
      const name = next.split('=')[0]!;
      if (name) envNames.add(name);
      push(next, redactAssignment(next));
      i++;
      continue;
    }
    const inlineEnv = /^(?:-e|--env=)([A-Za-z_][A-Za-z0-9_]*)(?:=.*)?$/s.exec(a);
    if (inlineEnv) envNames.add(inlineEnv[1]!);
    if (/^(-H|--header)$/.test(a) && next !== undefined) {
      out.push(a);
      const colon = next.indexOf(':');
      if (colon > 0) headerNames.add(next.slice(0, colon).trim());
      push(next, redactHeader(next));
      i++;
      continue;
    }
    const inlineHeader = /^--header=([^:]+):/.exec(a);
    if (inlineHeader) headerNames.add(inlineHeader[1]!.trim());
    if ((valueIsSecret(a) || /^(bearer|basic)$/i.test(a)) && next !== undefined && !next.startsWith('-')) {
      out.push(a);
      push(next, REDACTED);
      i++;
      continue;
    }
    if (/\s/.test(a)) {
      // A shell line: keep the spacing, redact each word (quotes stay with their word).
      const { args: inner, redactions: n } = redactArgs(a.split(/(\s+)/).filter((w) => w.length > 0 && !/^\s+$/.test(w)));
      if (n > 0) {
        let k = 0;
        const rebuilt = a.split(/(\s+)/).map((w) => (w.length > 0 && !/^\s+$/.test(w) ? inner[k++]! : w));
        push(a, rebuilt.join(''));
      } else out.push(a);
      continue;
    }
    push(a, sanitizeToken(a));
  }
  return { args: out, redactions, envNames: [...envNames], headerNames: [...headerNames] };
}

/**
 * Split a command line given as one string (`"command": "npx -y pkg"`) into words, with
 * single and double quotes and backslash escapes, as a POSIX shell would for plain words.
 * Written by hand: it is small, and it must never execute or expand anything.
 */
export function splitCommandLine(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let has = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"' && i + 1 < line.length) cur += line[++i];
      else cur += c;
      continue;
    }
    if (c === '"' || c === "'") {
      quote = c;
      has = true;
    } else if (c === '\\' && i + 1 < line.length) {
      cur += line[++i];
      has = true;
    } else if (/\s/.test(c)) {
      if (has) out.push(cur);
      cur = '';
      has = false;
    } else {
      cur += c;
      has = true;
    }
  }
  if (has) out.push(cur);
  return out;
}
