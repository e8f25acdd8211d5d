/**
 * Turning failures of the signing services (Fulcio, Rekor, a TSA) into messages a user can act
 * on: which service, at which address, and why (connection refused, HTTP status and the
 * service's own short message). Never the identity token: @sigstore/sign puts the token into
 * some of its error messages, and a misbehaving server could echo it, so every message is
 * scrubbed of it and of control characters, and server text is cut short.
 */
import { AibomError } from '../errors.js';
import { networkReason } from './identity-token.js';
import { redactUrl } from './signing-config.js';

export type ServiceName = 'Fulcio' | 'Rekor' | 'the timestamp authority';

const MAX_SERVER_TEXT = 200;

/** Remove every occurrence of each secret (and control characters) from a message. */
export function scrub(message: string, secrets: ReadonlyArray<string | undefined>): string {
  let out = message;
  for (const s of secrets) {
    if (s && s.length >= 8) out = out.split(s).join('[redacted]');
  }
  return out.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
}

interface HttpLike {
  statusCode?: number;
  message?: string;
  code?: string;
  cause?: unknown;
  name?: string;
}

/** Walk the cause chain for the HTTP error or network error underneath @sigstore/sign's InternalError. */
function rootCause(err: unknown): HttpLike | undefined {
  let cur: unknown = err;
  for (let i = 0; i < 8 && cur; i++) {
    const c = cur as HttpLike;
    if (typeof c.statusCode === 'number') return c;
    if (typeof c.code === 'string' && /^E[A-Z]+$/.test(c.code)) return c;
    if (c.name === 'TimeoutError' || c.name === 'AbortError' || c.name === 'FetchError') return c;
    cur = c.cause;
  }
  return undefined;
}

export function describeServiceFailure(err: unknown, secrets: ReadonlyArray<string | undefined>): string {
  const root = rootCause(err);
  if (root && typeof root.statusCode === 'number') {
    // HTTPError messages are "(status) server message".
    const text = scrub(String(root.message ?? ''), secrets)
      .replace(/^\(\d+\)\s*/, '')
      .slice(0, MAX_SERVER_TEXT);
    return `HTTP ${root.statusCode}${text ? `: ${text}` : ''}`;
  }
  if (root) {
    if (root.name === 'FetchError' && typeof root.message === 'string' && /timeout/i.test(root.message)) return 'timed out';
    return networkReason(root.code ? { code: root.code } : root);
  }
  const msg = err instanceof Error ? err.message : String(err);
  return scrub(msg, secrets).slice(0, MAX_SERVER_TEXT) || 'request failed';
}

export function serviceError(service: ServiceName, url: string, err: unknown, secrets: ReadonlyArray<string | undefined>): AibomError {
  if (err instanceof AibomError) return err;
  const reason = describeServiceFailure(err, secrets);
  const action =
    service === 'Fulcio'
      ? 'could not issue a signing certificate'
      : service === 'Rekor'
        ? 'could not record the signature in the transparency log'
        : 'could not timestamp the signature';
  const hint =
    service === 'Fulcio' && /^HTTP 40[13]/.test(reason)
      ? ' (the identity token was refused: expired, wrong audience, or an issuer this Fulcio does not trust)'
      : '';
  return new AibomError('SERVICE', `${service} at ${redactUrl(url)} ${action}: ${reason}${hint}`);
}
