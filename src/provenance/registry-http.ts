/**
 * Bounded GETs against an npm registry: a timeout per attempt, retries with backoff on network
 * errors, 429 and 5xx, no redirects, the body capped (by Content-Length and while reading), the
 * auth token sent as a bearer token and never shown. A 404 is `undefined`, not an error.
 */
import type { NpmRegistry } from './npm-config.js';

export const DEFAULT_TIMEOUT_MS = 30_000;
const RETRIES = 3;

export class HttpStatus extends Error {
  constructor(readonly status: number) {
    super(`HTTP ${status}`);
  }
}

class TooLarge extends Error {}

export interface GetOptions {
  max: number;
  retryDelayMs: number;
  timeoutMs?: number;
  /** Shared by one run: after a few answers that never completed, the registry is not asked again (each request left is an error at once). */
  breaker?: Breaker;
}

/**
 * One run's budget for a registry that fails: at `limit` timeouts, or once failed answers (of
 * any kind: 5xx, 429, network errors, timeouts) have taken `budgetMs` in all, the registry is
 * not asked again and every request left fails at once (a registry that answers 503 just under
 * the deadline must not cost minutes per package).
 */
export interface Breaker {
  timeouts: number;
  limit: number;
  failedMs: number;
  budgetMs: number;
}

export function newBreaker(timeoutMs: number = DEFAULT_TIMEOUT_MS): Breaker {
  return { timeouts: 0, limit: 4, failedMs: 0, budgetMs: 2 * timeoutMs };
}

function tripped(b: Breaker | undefined): string | undefined {
  if (!b) return undefined;
  if (b.timeouts >= b.limit) return `not asked: the registry left ${b.timeouts} answers incomplete past their deadline in this run`;
  if (b.failedMs >= b.budgetMs) return `not asked: the registry's failed answers took ${(b.failedMs / 1000).toFixed(1)} s of this run (budget ${(b.budgetMs / 1000).toFixed(0)} s)`;
  return undefined;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

class Timeout extends Error {
  override name = 'TimeoutError';
}

/**
 * One exchange under a deadline this code owns: when it passes, the request is aborted (the
 * socket closed) and the attempt fails at once, whether or not the pending read ever settles
 * (a registry that sends headers and then one byte a second must not hold a build).
 */
async function getOnce(url: string, reg: NpmRegistry, o: GetOptions): Promise<Buffer | undefined> {
  const ms = o.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new Timeout(`no complete answer within ${ms} ms`));
      controller.abort();
    }, ms);
  });
  const exchange = exchangeOnce(url, reg, o, controller.signal);
  exchange.catch(() => {}); // settled or not, the deadline decides
  try {
    return await Promise.race([exchange, deadline]);
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
}

async function exchangeOnce(url: string, reg: NpmRegistry, o: GetOptions, signal: AbortSignal): Promise<Buffer | undefined> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (reg.token) headers.authorization = `Bearer ${reg.token}`;
  const res = await fetch(url, { headers, signal, redirect: 'error' });
  if (res.status === 404) {
    await res.body?.cancel();
    return undefined;
  }
  if (res.status !== 200) {
    await res.body?.cancel();
    throw new HttpStatus(res.status);
  }
  const declared = Number(res.headers.get('content-length') ?? '0');
  if (declared > o.max) {
    await res.body?.cancel();
    throw new TooLarge(`response over ${o.max} bytes`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res.body ?? []) {
    size += (chunk as Uint8Array).length;
    if (size > o.max) throw new TooLarge(`response over ${o.max} bytes`);
    chunks.push(Buffer.from(chunk as Uint8Array));
  }
  return Buffer.concat(chunks);
}

export async function getBounded(url: string, reg: NpmRegistry, o: GetOptions): Promise<Buffer | undefined> {
  let lastErr: unknown;
  for (let attempt = 0; attempt <= RETRIES; attempt++) {
    if (attempt) await sleep(o.retryDelayMs * 4 ** (attempt - 1));
    const stop = tripped(o.breaker);
    if (stop) throw new Error(stop);
    const started = Date.now();
    try {
      return await getOnce(url, reg, o);
    } catch (err) {
      lastErr = err;
      if (o.breaker) o.breaker.failedMs += Date.now() - started;
      if (err instanceof Timeout) {
        // A registry that holds a request open is not retried: the deadline already paid for it.
        if (o.breaker) o.breaker.timeouts++;
        break;
      }
      if (err instanceof TooLarge) break;
      if (err instanceof HttpStatus && err.status !== 429 && err.status < 500) break;
    }
  }
  throw lastErr;
}

/** A URL path for a package name: `@scope/name` → `@scope%2fname` (as npm requests it). */
export function encodeName(name: string): string {
  return name.startsWith('@') ? `@${encodeURIComponent(name.slice(1))}` : encodeURIComponent(name);
}

export function describeError(err: unknown): string {
  if (err instanceof HttpStatus) return `the registry answered ${err.status}`;
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) return 'the registry did not answer in time';
  const msg = err instanceof Error ? err.message : String(err);
  return msg.slice(0, 300);
}
