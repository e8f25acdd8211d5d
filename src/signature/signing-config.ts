/**
 * Sigstore SigningConfig (https://github.com/sigstore/protobuf-specs, sigstore_trustroot.proto):
 * which Fulcio, Rekor and timestamp authority a signer talks to. Reads v0.2
 * (`application/vnd.dev.sigstore.signingconfig.v0.2+json`: Service lists with API versions and
 * validity windows, plus selectors) and v0.1 (`caUrl`, `oidcUrl`, `tlogUrls`, `tsaUrls`), and
 * selects services the way the spec says: only API versions this client speaks, only services
 * whose validity window contains now, newest start first, the highest API version winning.
 *
 * Pure: the caller reads the file (bounded) and passes the parsed JSON.
 */
import { AibomError } from '../errors.js';
import { isObject } from '../util/json.js';

export const SIGNING_CONFIG_V02 = 'application/vnd.dev.sigstore.signingconfig.v0.2+json';
export const SIGNING_CONFIG_V01 = 'application/vnd.dev.sigstore.signingconfig.v0.1+json';

/** API versions @sigstore/sign speaks: Fulcio v2 API (majorApiVersion 1), Rekor v1 and v2, RFC 3161 TSA (1). */
const MAX_CA_API = 1;
const MAX_TLOG_API = 2;
const MAX_TSA_API = 1;
/** A signing config is a few KiB; this many services is already absurd. */
const MAX_SERVICES = 256;

export interface TlogEndpoint {
  url: string;
  /** 1: Rekor v1 (`/api/v1/log/entries`), 2: Rekor v2. */
  majorApiVersion: number;
}

/** The services one signing run uses. */
export interface SigningServices {
  /** Fulcio base URL (keyless only). */
  fulcio?: string;
  /** Transparency logs to record the signature in (often one). */
  rekor: TlogEndpoint[];
  /** Timestamp authorities (full endpoint URLs, or base URLs: the client adds /api/v1/timestamp to a bare host). */
  tsa: string[];
}

interface Service {
  url: string;
  majorApiVersion: number;
  start?: Date;
  end?: Date;
  operator: string;
}

type Selector = { kind: 'ANY' } | { kind: 'ALL' } | { kind: 'EXACT'; count: number };

/** Parse a SigningConfig JSON (v0.1 or v0.2) and select the services to use now. */
export function selectFromSigningConfig(data: unknown, file: string, now: Date = new Date()): SigningServices {
  if (!isObject(data)) throw new AibomError('INPUT', 'signing config is not a JSON object', { file });
  const mediaType = data.mediaType;
  if (mediaType === SIGNING_CONFIG_V02) return selectV02(data, file, now);
  if (mediaType === SIGNING_CONFIG_V01 || (mediaType === undefined && ('caUrl' in data || 'tlogUrls' in data))) {
    return selectV01(data, file);
  }
  throw new AibomError(
    'UNSUPPORTED',
    `signing config has mediaType ${JSON.stringify(mediaType ?? null).slice(0, 120)}; aibom reads ${SIGNING_CONFIG_V02} and ${SIGNING_CONFIG_V01}`,
    { file },
  );
}

function selectV01(data: Record<string, unknown>, file: string): SigningServices {
  const out: SigningServices = { rekor: [], tsa: [] };
  if (data.caUrl !== undefined) out.fulcio = checkServiceUrl(stringField(data.caUrl, 'caUrl', file), 'caUrl', file);
  const tlogs = stringList(data.tlogUrls, 'tlogUrls', file);
  // v0.1 lists alternatives; one log is what a signer writes to.
  if (tlogs[0] !== undefined) out.rekor.push({ url: checkServiceUrl(tlogs[0], 'tlogUrls', file), majorApiVersion: 1 });
  const tsas = stringList(data.tsaUrls, 'tsaUrls', file);
  if (tsas[0] !== undefined) out.tsa.push(checkServiceUrl(tsas[0], 'tsaUrls', file));
  return out;
}

function selectV02(data: Record<string, unknown>, file: string, now: Date): SigningServices {
  const cas = services(data.caUrls, 'caUrls', file);
  const tlogs = services(data.rekorTlogUrls, 'rekorTlogUrls', file);
  const tsas = services(data.tsaUrls, 'tsaUrls', file);
  const out: SigningServices = { rekor: [], tsa: [] };
  const ca = pick(cas, MAX_CA_API, now, { kind: 'ANY' }, 'caUrls', file);
  if (ca[0]) out.fulcio = ca[0].url;
  out.rekor = pick(tlogs, MAX_TLOG_API, now, selector(data.rekorTlogConfig, 'rekorTlogConfig', file), 'rekorTlogUrls', file).map((s) => ({
    url: s.url,
    majorApiVersion: s.majorApiVersion,
  }));
  out.tsa = pick(tsas, MAX_TSA_API, now, selector(data.tsaConfig, 'tsaConfig', file), 'tsaUrls', file).map((s) => s.url);
  return out;
}

/**
 * Select services: compatible API version, valid now; per operator the highest API version and
 * then the newest start; then as many operators as the selector asks for (newest first).
 */
function pick(list: Service[], maxApi: number, now: Date, sel: Selector, field: string, file: string): Service[] {
  const usable = list.filter(
    (s) => s.majorApiVersion >= 1 && s.majorApiVersion <= maxApi && (!s.start || s.start <= now) && (!s.end || s.end > now),
  );
  const byOperator = new Map<string, Service>();
  const better = (a: Service, b: Service) =>
    a.majorApiVersion !== b.majorApiVersion
      ? a.majorApiVersion > b.majorApiVersion
      : (a.start?.getTime() ?? 0) > (b.start?.getTime() ?? 0);
  for (const s of usable) {
    const cur = byOperator.get(s.operator);
    if (!cur || better(s, cur)) byOperator.set(s.operator, s);
  }
  const ranked = [...byOperator.values()].sort((a, b) => (better(a, b) ? -1 : better(b, a) ? 1 : 0));
  if (sel.kind === 'ANY') return ranked.slice(0, 1);
  if (sel.kind === 'ALL') return ranked;
  if (ranked.length < sel.count) {
    throw new AibomError('INPUT', `${field}: the selector asks for ${sel.count} services but only ${ranked.length} are usable now`, { file });
  }
  return ranked.slice(0, sel.count);
}

function services(value: unknown, field: string, file: string): Service[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new AibomError('INPUT', `signing config ${field} is not a list`, { file });
  if (value.length > MAX_SERVICES) throw new AibomError('TOO_LARGE', `signing config ${field} lists ${value.length} services`, { file });
  return value.map((v, i) => {
    const where = `${field}[${i}]`;
    if (!isObject(v)) throw new AibomError('INPUT', `signing config ${where} is not an object`, { file });
    const url = checkServiceUrl(stringField(v.url, `${where}.url`, file), `${where}.url`, file);
    const api = v.majorApiVersion;
    if (typeof api !== 'number' || !Number.isInteger(api) || api < 0) {
      throw new AibomError('INPUT', `signing config ${where}.majorApiVersion is not a whole number`, { file });
    }
    const s: Service = { url, majorApiVersion: api, operator: typeof v.operator === 'string' && v.operator ? v.operator : url };
    if (v.validFor !== undefined) {
      if (!isObject(v.validFor)) throw new AibomError('INPUT', `signing config ${where}.validFor is not an object`, { file });
      if (v.validFor.start !== undefined) s.start = date(v.validFor.start, `${where}.validFor.start`, file);
      if (v.validFor.end !== undefined) s.end = date(v.validFor.end, `${where}.validFor.end`, file);
    }
    return s;
  });
}

function selector(value: unknown, field: string, file: string): Selector {
  // A config without a selector asks for nothing special: one service.
  if (value === undefined || value === null) return { kind: 'ANY' };
  if (!isObject(value)) throw new AibomError('INPUT', `signing config ${field} is not an object`, { file });
  const s = value.selector;
  // protobuf JSON: enum names, or their numbers (ALL = 1, ANY = 2, EXACT = 3).
  if (s === 'ANY' || s === 2) return { kind: 'ANY' };
  if (s === 'ALL' || s === 1) return { kind: 'ALL' };
  if (s === 'EXACT' || s === 3) {
    const count = value.count;
    if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count > MAX_SERVICES) {
      throw new AibomError('INPUT', `signing config ${field}: selector EXACT needs a count`, { file });
    }
    return { kind: 'EXACT', count };
  }
  throw new AibomError('UNSUPPORTED', `signing config ${field} has selector ${JSON.stringify(s ?? null).slice(0, 60)}`, { file });
}

function stringField(v: unknown, field: string, file: string): string {
  if (typeof v !== 'string' || v === '') throw new AibomError('INPUT', `signing config ${field} is not a URL string`, { file });
  return v;
}

function stringList(v: unknown, field: string, file: string): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) {
    throw new AibomError('INPUT', `signing config ${field} is not a list of URLs`, { file });
  }
  if (v.length > MAX_SERVICES) throw new AibomError('TOO_LARGE', `signing config ${field} lists ${v.length} URLs`, { file });
  return v as string[];
}

function date(v: unknown, field: string, file: string): Date {
  const d = typeof v === 'string' ? new Date(v) : undefined;
  if (!d || Number.isNaN(d.getTime())) throw new AibomError('INPUT', `signing config ${field} is not an RFC 3339 time`, { file });
  return d;
}

/**
 * A service URL must be https, or http to a loopback host (a local test instance): an identity
 * token sent over plain http to another machine could be read on the way. Credentials in the
 * URL are refused (they would end up in error messages and logs). Returns the URL without a
 * trailing slash.
 */
export function checkServiceUrl(value: string, what: string, file?: string): string {
  const fo = file === undefined ? {} : { file };
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw new AibomError('USAGE', `${what}: not a URL: ${JSON.stringify(value).slice(0, 200)}`, fo);
  }
  if (u.username || u.password) throw new AibomError('USAGE', `${what}: URLs with credentials are not accepted`, fo);
  if (u.protocol !== 'https:' && !(u.protocol === 'http:' && isLoopback(u.hostname))) {
    throw new AibomError('USAGE', `${what}: ${redactUrl(value)} must use https (plain http only to a loopback address)`, fo);
  }
  if (u.search || u.hash) throw new AibomError('USAGE', `${what}: ${redactUrl(value)} must not have a query or fragment`, fo);
  return u.toString().replace(/\/+$/, '');
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '[::1]' || host === '::1' || /^127(?:\.\d{1,3}){3}$/.test(host);
}

/** A URL for messages: scheme, host and path only. */
export function redactUrl(value: string): string {
  try {
    const u = new URL(value);
    return `${u.protocol}//${u.host}${u.pathname === '/' ? '' : u.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}
