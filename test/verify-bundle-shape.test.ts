/**
 * A malformed bundle never surfaces an internal error. Every field of real bundles (keyless
 * message signature with a TSA timestamp, keyless DSSE; made on the loopback stack) is, in
 * turn, removed, set to null, and set to each wrong JSON type; each variant is verified in
 * process as `aibom verify` does. The verdict may be anything but a crash: no exception, and a
 * failure names a known reason with a message that is not a JavaScript runtime error.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VerifySession } from '../src/verification/run.js';
import { tempDir } from './helpers/cli.js';
import { makeKeylessBundles } from './helpers/keyless-bundles.js';
import { type SigstoreStack, startSigstoreStack } from './helpers/sigstore-stack.js';

let stack: SigstoreStack;
let tmp: Awaited<ReturnType<typeof tempDir>>;

beforeAll(async () => {
  stack = await startSigstoreStack();
  tmp = await tempDir();
});
afterAll(async () => {
  await stack?.close();
  await tmp?.cleanup();
});

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Every path (array of keys) to a value in the document, the root excluded. */
function paths(v: Json, prefix: Array<string | number> = []): Array<Array<string | number>> {
  const out: Array<Array<string | number>> = [];
  if (Array.isArray(v)) {
    for (const [i, x] of v.entries()) out.push([...prefix, i], ...paths(x, [...prefix, i]));
  } else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) out.push([...prefix, k], ...paths(x, [...prefix, k]));
  return out;
}

const WRONG: Array<[string, Json | undefined]> = [
  ['missing', undefined],
  ['null', null],
  ['number', 42],
  ['string', 'x'],
  ['empty string', ''],
  ['boolean', true],
  ['array', []],
  ['object', {}],
];

function withValue(doc: Json, path: Array<string | number>, value: Json | undefined): Json {
  const copy = structuredClone(doc) as Json;
  let at: any = copy;
  for (const k of path.slice(0, -1)) at = at[k];
  const last = path[path.length - 1]!;
  if (value === undefined) {
    if (Array.isArray(at)) at.splice(Number(last), 1);
    else delete at[last];
  } else at[last] = value;
  return copy;
}

const INTERNAL = /Cannot read|Cannot convert|undefined|is not a function|is not iterable|TypeError|RangeError|ReferenceError|Maximum call stack|\[object Object\]|internal/i;
const REASONS = ['wrong-identity', 'digest-mismatch', 'expired', 'untrusted', 'signature', 'malformed', 'unsupported'];

describe('bundle shape fuzzing', () => {
  it('every field missing, null or of the wrong type: a verdict with a reason, never an internal error', async () => {
    const session = new VerifySession({});
    let variants = 0;
    const bad: string[] = [];
    for (const dsse of [false, true]) {
      const out = await makeKeylessBundles(stack, { dir: join(tmp.dir, dsse ? 'dsse' : 'msg'), count: 1, tsa: true, dsse });
      const entry = out.entries[0]!;
      const doc = JSON.parse(await readFile(entry.bundle, 'utf8')) as Json;
      const request = {
        target: entry.artifact,
        certificateIdentity: out.identity,
        certificateOidcIssuer: out.issuer,
        trustedRoot: stack.trustedRootPath,
      };
      // The unmodified bundle verifies, so a failure below is the mutation's.
      expect((await session.verify({ ...request, bundle: entry.bundle })).verified).toBe(true);
      const file = join(tmp.dir, `${dsse ? 'dsse' : 'msg'}-variant.json`);
      for (const path of paths(doc)) {
        for (const [label, value] of WRONG) {
          const variant = withValue(doc, path, value);
          await writeFile(file, JSON.stringify(variant));
          const where = `${dsse ? 'dsse' : 'message'} /${path.join('/')} ${label}`;
          let result: Awaited<ReturnType<VerifySession['verify']>>;
          try {
            result = await session.verify({ ...request, bundle: file });
          } catch (err) {
            throw new Error(`${where}: threw ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
          }
          variants++;
          if (result.verified) continue;
          if (!REASONS.includes(result.reason ?? '') || INTERNAL.test(result.error ?? '')) bad.push(`${where}: ${result.reason}: ${result.error}`);
        }
      }
    }
    expect(bad).toEqual([]);
    expect(variants).toBeGreaterThan(300);
  }, 120_000);
});
