/**
 * Third outside report, findings 8 and 11, against `checkNpmProvenance` (library):
 * - a registry that sends its headers and then one byte a second (or never answers) must cost
 *   one deadline per request, never hold the build, and after a few such answers is not asked
 *   again in the run;
 * - a lockfile `integrity` with two sha512 digests (npm installs a tarball matching either) can
 *   never be covered by one attestation: invalid, and nothing is asked.
 */
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkNpmProvenance, npmPackages } from '../src/provenance/npm-provenance.js';
import type { Component } from '../src/inventory/types.js';

let server: Server;
let url: string;
let requests = 0;
const open = new Set<import('node:http').ServerResponse>();

beforeAll(async () => {
  server = createServer((req, res) => {
    requests++;
    open.add(res);
    res.on('close', () => open.delete(res));
    if (req.url?.includes('never')) return; // headers never come
    if (req.url?.includes('slow503')) {
      // A 503 just under the deadline, every time (fourth outside report, finding 6).
      setTimeout(() => {
        res.writeHead(503);
        res.end();
      }, 600);
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{');
    const t = setInterval(() => res.write(' '), 200); // one byte at a time, forever
    res.on('close', () => clearInterval(t));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});

afterAll(async () => {
  for (const r of open) r.destroy();
  await new Promise((r) => server.close(r));
});

const component = (name: string, hashes: string[]): Component =>
  ({ ref: `pkg:npm/${name}@1.0.0`, name, version: '1.0.0', purl: `pkg:npm/${name}@1.0.0`, hashes: hashes.map((content) => ({ alg: 'SHA-512', content })), properties: [] }) as unknown as Component;
const sha = (s: string) => createHash('sha512').update(s).digest('hex');
const noTrust = () => {
  throw new Error('nothing here may need verifying');
};

describe('a hostile registry (library)', () => {
  it('a trickling or silent registry costs one deadline per request, then is not asked again; every package is an error, none hangs', async () => {
    const pkgs = npmPackages(['a', 'b', 'c', 'never-d', 'e', 'f', 'g', 'h'].map((n) => component(n, [sha(n)])));
    requests = 0;
    const started = Date.now();
    const run = await checkNpmProvenance(pkgs, { registry: { url, source: 'test' }, trust: noTrust, trustKey: 'k', concurrency: 2, timeoutMs: 1500, retryDelayMs: 1 });
    const took = Date.now() - started;
    expect(run.results.size).toBe(8);
    for (const r of run.results.values()) {
      expect(r.status).toBe('error');
      expect(r.error).toMatch(/^(the registry did not answer in time|not asked: the registry left \d+ answers incomplete past their deadline in this run|not asked: the registry's failed answers took [\d.]+ s of this run \(budget \d+ s\))$/);
    }
    expect([...run.results.values()].filter((r) => r.error?.startsWith('not asked')).length).toBeGreaterThan(0);
    // No retries of a timed-out request; the breaker stops the rest (2 requests per package at most).
    expect(requests).toBeLessThan(16);
    expect(took).toBeLessThan(60_000); // a bound, not a timing claim: before the fix this never returned
  }, 90_000);

  it('a registry that answers 503 just under the deadline is not asked again once its failures have cost the run its budget', async () => {
    const pkgs = npmPackages(Array.from({ length: 12 }, (_, i) => component(`slow503-${i}`, [sha(`s${i}`)])));
    requests = 0;
    const run = await checkNpmProvenance(pkgs, { registry: { url, source: 'test' }, trust: noTrust, trustKey: 'k', concurrency: 2, timeoutMs: 1000, retryDelayMs: 1 });
    const errors = [...run.results.values()].map((r) => r.error ?? '');
    expect(errors.every((e) => e === 'the registry answered 503' || e.startsWith("not asked: the registry's failed answers took"))).toBe(true);
    expect(errors.filter((e) => e.startsWith('not asked')).length).toBeGreaterThan(6);
    // 12 packages × 2 requests × 4 attempts would be 96 answers of 0.6 s; the budget (2 × 1 s) stops it after a handful.
    expect(requests).toBeLessThan(16);
  }, 60_000);

  it('an integrity with two sha512 digests is invalid without asking the registry', async () => {
    requests = 0;
    const pkgs = npmPackages([component('two', [sha('legit'), sha('evil')]), component('same', [sha('x'), sha('x').toUpperCase()])]);
    expect(pkgs.find((p) => p.name === 'same')!.ambiguous).toBeUndefined();
    const two = pkgs.filter((p) => p.name === 'two');
    const run = await checkNpmProvenance(two, { registry: { url, source: 'test' }, trust: noTrust, trustKey: 'k', timeoutMs: 1000, retryDelayMs: 1 });
    expect(run.results.get('pkg:npm/two@1.0.0')).toEqual({
      status: 'invalid',
      error: "the lockfile's integrity lists 2 sha512 digests; npm accepts a tarball that matches any one of them, so no single attestation can cover what is installed",
    });
    expect(requests).toBe(0);
  });
});
