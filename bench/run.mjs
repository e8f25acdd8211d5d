// Benchmarks. `npm run bench` runs them all; `npm run bench -- lockfile` one of them.
// `npm run bench:smoke` runs the aibom side of each once on a small input (CI).
//
//   npm run bench [-- [NAME...] [--runs N] [--warmup N] [--json FILE]]
//   npm run bench:smoke
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { BenchError } from './lib.mjs';

/** Every benchmark: name → module with `description`, `run(options)` and `smoke()`. */
const BENCHES = {
  lockfile: () => import('./lockfile.mjs'),
  hashing: () => import('./hashing.mjs'),
  verify: () => import('./verify.mjs'),
  plugins: () => import('./plugins.mjs'),
  pickles: () => import('./pickles.mjs'),
};

function usage() {
  return (
    'usage: npm run bench [-- [NAME...] [--runs N] [--warmup N] [--json FILE]]\n' +
    '       npm run bench:smoke\n' +
    `benchmarks: ${Object.keys(BENCHES).join(', ')}`
  );
}

async function main() {
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: {
        runs: { type: 'string', default: '5' },
        warmup: { type: 'string', default: '1' },
        json: { type: 'string' },
        smoke: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (err) {
    console.error(`bench: ${err.message}\n${usage()}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(usage());
    return 0;
  }
  const runs = Number(values.runs);
  const warmup = Number(values.warmup);
  if (!Number.isInteger(runs) || runs < 1 || !Number.isInteger(warmup) || warmup < 0) {
    console.error(`bench: --runs must be ≥ 1 and --warmup ≥ 0\n${usage()}`);
    return 2;
  }
  const unknown = positionals.filter((n) => !(n in BENCHES));
  if (unknown.length) {
    console.error(`bench: unknown benchmark ${unknown.join(', ')}\n${usage()}`);
    return 2;
  }
  const names = positionals.length ? positionals : Object.keys(BENCHES);

  if (values.smoke) {
    let failed = 0;
    for (const name of names) {
      const mod = await BENCHES[name]();
      try {
        console.log(`bench smoke: ok: ${await mod.smoke()}`);
      } catch (err) {
        failed++;
        console.error(`bench smoke: FAILED: ${name}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    return failed ? 1 : 0;
  }

  const all = [];
  for (const name of names) {
    const mod = await BENCHES[name]();
    all.push(await mod.run({ runs, warmup }));
    console.log('');
  }
  if (values.json) writeFileSync(values.json, `${JSON.stringify(all, null, 2)}\n`);
  return 0;
}

try {
  process.exitCode = await main();
} catch (err) {
  if (err instanceof BenchError) {
    console.error(err.message);
    process.exitCode = 2;
  } else {
    throw err;
  }
}
