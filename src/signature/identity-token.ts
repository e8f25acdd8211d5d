/**
 * The OIDC identity token a keyless signature binds to: `--identity-token`, else
 * `SIGSTORE_ID_TOKEN` (as cosign and sigstore-js read it), else the ambient GitHub Actions token
 * (`ACTIONS_ID_TOKEN_REQUEST_URL` + `ACTIONS_ID_TOKEN_REQUEST_TOKEN`, requested for audience
 * `sigstore`, which a job gets with `permissions: id-token: write`).
 *
 * The token is a bearer credential: it is never written anywhere, never put in an error
 * message, and its claims are only read (not trusted) to fail early on an expired token.
 */
import { AibomError } from '../errors.js';
import { isObject } from '../util/json.js';
import { redactUrl } from './signing-config.js';

export type TokenSource = 'flag' | 'SIGSTORE_ID_TOKEN' | 'github-actions';

export interface IdentityToken {
  /** The JWT. Keep it in memory only. */
  readonly token: string;
  readonly source: TokenSource;
  /** Unverified claims, for messages: issuer and subject (Fulcio checks the token itself). */
  readonly issuer?: string;
  readonly subject?: string;
}

/** A JWT is a few KiB; GitHub's are ~1.5 KiB. */
const MAX_TOKEN_CHARS = 64 * 1024;
const MAX_RESPONSE_BYTES = 256 * 1024;
const FETCH_TIMEOUT_MS = 15_000;
export const SIGSTORE_AUDIENCE = 'sigstore';

export interface TokenOptions {
  identityToken?: string;
  env?: NodeJS.ProcessEnv;
  now?: Date;
}

/** Find a token, or return undefined when there is none (the caller explains the choices). */
export async function findIdentityToken(options: TokenOptions = {}): Promise<IdentityToken | undefined> {
  const env = options.env ?? process.env;
  if (options.identityToken !== undefined) return checkToken(options.identityToken, 'flag', options.now);
  if (env.SIGSTORE_ID_TOKEN) return checkToken(env.SIGSTORE_ID_TOKEN, 'SIGSTORE_ID_TOKEN', options.now);
  if (env.ACTIONS_ID_TOKEN_REQUEST_URL && env.ACTIONS_ID_TOKEN_REQUEST_TOKEN) {
    const token = await fetchGitHubActionsToken(env.ACTIONS_ID_TOKEN_REQUEST_URL, env.ACTIONS_ID_TOKEN_REQUEST_TOKEN);
    return checkToken(token, 'github-actions', options.now);
  }
  return undefined;
}

function describeSource(source: TokenSource): string {
  return source === 'flag' ? '--identity-token' : source === 'SIGSTORE_ID_TOKEN' ? 'SIGSTORE_ID_TOKEN' : 'the GitHub Actions OIDC token';
}

/** Check a token's shape and expiry without ever echoing it. */
export function checkToken(raw: string, source: TokenSource, now: Date = new Date()): IdentityToken {
  const token = raw.trim();
  const what = describeSource(source);
  if (token === '') throw new AibomError('USAGE', `${what} is empty`);
  if (token.length > MAX_TOKEN_CHARS) throw new AibomError('USAGE', `${what} is not an identity token (too long)`);
  const parts = token.split('.');
  if (parts.length !== 3 || !parts.every((p) => /^[A-Za-z0-9_-]+={0,2}$/.test(p))) {
    throw new AibomError('USAGE', `${what} is not an identity token (expected a JWT: three base64url parts)`);
  }
  let claims: unknown;
  try {
    claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8'));
  } catch {
    throw new AibomError('USAGE', `${what} is not an identity token (its claims are not JSON)`);
  }
  if (!isObject(claims)) throw new AibomError('USAGE', `${what} is not an identity token (its claims are not an object)`);
  if (typeof claims.exp === 'number' && claims.exp * 1000 < now.getTime()) {
    throw new AibomError('USAGE', `${what} expired at ${new Date(claims.exp * 1000).toISOString()}; get a fresh token`);
  }
  // Fulcio reads the email claim (which must be verified) or else the subject.
  if (typeof claims.email === 'string' && claims.email_verified !== true) {
    throw new AibomError('USAGE', `${what} has an email claim that its issuer did not verify (email_verified is not true)`);
  }
  if (typeof claims.email !== 'string' && typeof claims.sub !== 'string') {
    throw new AibomError('USAGE', `${what} has neither an email nor a subject claim`);
  }
  const subject = typeof claims.email === 'string' ? claims.email : (claims.sub as string);
  return {
    token,
    source,
    subject,
    ...(typeof claims.iss === 'string' ? { issuer: claims.iss } : {}),
  };
}

/** Ask the GitHub Actions token endpoint for a token with audience `sigstore`. */
export async function fetchGitHubActionsToken(requestUrl: string, requestToken: string): Promise<string> {
  let url: URL;
  try {
    url = new URL(requestUrl);
  } catch {
    throw new AibomError('USAGE', 'ACTIONS_ID_TOKEN_REQUEST_URL is not a URL');
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && /^(?:127(?:\.\d{1,3}){3}|localhost|\[::1\])$/.test(url.hostname))) {
    throw new AibomError('USAGE', 'ACTIONS_ID_TOKEN_REQUEST_URL must use https');
  }
  url.searchParams.set('audience', SIGSTORE_AUDIENCE);
  const where = redactUrl(url.toString());
  let res: Response;
  try {
    res = await fetch(url, {
      headers: { accept: 'application/json', authorization: `bearer ${requestToken}` },
      signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
      redirect: 'error',
    });
  } catch (err) {
    throw new AibomError('SERVICE', `cannot get the GitHub Actions OIDC token from ${where}: ${networkReason(err)}`);
  }
  if (!res.ok) {
    await res.body?.cancel().catch(() => {});
    const hint = res.status === 401 || res.status === 403 ? ' (does the job have `permissions: id-token: write`?)' : '';
    throw new AibomError('SERVICE', `the GitHub Actions OIDC token endpoint ${where} answered HTTP ${res.status}${hint}`);
  }
  const text = await readBounded(res, MAX_RESPONSE_BYTES).catch(() => {
    throw new AibomError('SERVICE', `the GitHub Actions OIDC token endpoint ${where} sent an unreadable or oversized answer`);
  });
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (!isObject(body) || typeof body.value !== 'string' || body.value === '') {
    throw new AibomError('SERVICE', `the GitHub Actions OIDC token endpoint ${where} answered without a token`);
  }
  return body.value;
}

async function readBounded(res: Response, max: number): Promise<string> {
  const reader = res.body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > max) {
      await reader.cancel();
      throw new Error('too large');
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** A short reason for a failed request (connection refused, timeout, DNS…), never the request itself. */
export function networkReason(err: unknown): string {
  const e = err as { name?: string; code?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return 'timed out';
  const code = e?.cause?.code ?? e?.code;
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'host not found';
    case 'ECONNRESET':
      return 'connection reset';
    case 'ETIMEDOUT':
      return 'timed out';
    case undefined:
      return 'request failed';
    default:
      return String(code);
  }
}
