#!/usr/bin/env node
// `npm run test:conformance`, interop part: aibom against artifacts other tools made.
//
// 1. sigstore-js's bundles (../shared/interop/sigstore-js-bundles: v0.1/v0.2/v0.3, dsse and
//    intoto log entries, with and without inclusion proofs, in-toto Statement v0.1, sha512
//    subject) verify over the npm registry tarball of sigstore@1.0.0 (`npm pack`, fetched now),
//    by path and by its sha512 digest, one by one and as one JSON Lines file; another artifact,
//    another identity and a tampered bundle fail.
// 2. DSSE envelopes aibom signs (P-256 and P-384 keys) verify with Debian's
//    python3-securesystemslib (/usr/bin/python3), and a changed payload does not.
//
// Missing data or a missing tool is a failure, never a skip. Prints `N passed, N failed`.
// Data: $AIBOM_INTEROP_DIR, else ../shared/interop beside the repository.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const dataRoot = process.env.AIBOM_INTEROP_DIR ? resolve(process.env.AIBOM_INTEROP_DIR) : resolve(repo, '..', 'shared', 'interop');
const jsBundles = join(dataRoot, 'sigstore-js-bundles');
const dist = process.env.AIBOM_CONFORMANCE_CLI ? resolve(process.env.AIBOM_CONFORMANCE_CLI) : join(repo, 'dist', 'cli', 'aibom.js');
const useSource = process.env.AIBOM_CONFORMANCE_SOURCE === '1' || !existsSync(dist);
const cliArgs = useSource ? ['--import', 'tsx', join(repo, 'cli', 'aibom.ts')] : [dist];
const PYTHON = process.env.AIBOM_DEBIAN_PYTHON ?? '/usr/bin/python3';

let passed = 0;
let failed = 0;
const check = (name, ok, detail = '') => {
  if (ok) passed++;
  else {
    failed++;
    console.error(`FAIL ${name}${detail ? `: ${detail}` : ''}`);
  }
};
const aibom = (args) => {
  const r = spawnSync(process.execPath, [...cliArgs, ...args], { cwd: repo, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}`, stdout: r.stdout };
};

const work = mkdtempSync(join(tmpdir(), 'aibom-interop-'));
try {
  // ---- 1. sigstore-js bundles
  if (!existsSync(jsBundles)) {
    check('interop data', false, `${jsBundles} does not exist (set AIBOM_INTEROP_DIR to the folder holding sigstore-js-bundles/)`);
  } else {
    const bundles = readdirSync(jsBundles).filter((f) => f.endsWith('.sigstore')).sort();
    check('sigstore-js bundles present', bundles.length === 9, `found ${bundles.length}, expected 9`);
    const statement = JSON.parse(readFileSync(join(jsBundles, 'statement.json'), 'utf8'));
    check('statement is in-toto v0.1', statement._type === 'https://in-toto.io/Statement/v0.1');
    let tgz;
    try {
      const name = execFileSync('npm', ['pack', 'sigstore@1.0.0', '--silent'], { cwd: work, encoding: 'utf8' }).trim().split('\n').pop();
      tgz = join(work, name);
    } catch (err) {
      check('npm pack sigstore@1.0.0', false, err instanceof Error ? err.message : String(err));
    }
    if (tgz) {
      const sha512 = createHash('sha512').update(readFileSync(tgz)).digest('hex');
      check('tarball is the statement subject', statement.subject?.[0]?.digest?.sha512 === sha512);
      const who = ['--certificate-identity', 'brian@dehamer.com', '--certificate-oidc-issuer', 'https://github.com/login/oauth'];
      for (const b of bundles) {
        const file = join(jsBundles, b);
        const byPath = aibom(['verify', tgz, '--bundle', file, ...who]);
        check(`${b} by path`, byPath.code === 0, byPath.out.trim());
        const byDigest = aibom(['verify', `sha512:${sha512}`, '--bundle', file, ...who]);
        check(`${b} by sha512 digest`, byDigest.code === 0, byDigest.out.trim());
      }
      const first = join(jsBundles, bundles[0]);
      const wrongId = aibom(['verify', tgz, '--bundle', first, '--certificate-identity', 'someone@example.com', '--certificate-oidc-issuer', 'https://github.com/login/oauth']);
      check('another identity fails', wrongId.code === 1 && /wrong-identity/.test(wrongId.out), wrongId.out.trim());
      const otherArtifact = join(work, 'other.tgz');
      writeFileSync(otherArtifact, 'not the tarball');
      const wrongArtifact = aibom(['verify', otherArtifact, '--bundle', first, ...who]);
      check('another artifact fails', wrongArtifact.code === 1 && /digest-mismatch/.test(wrongArtifact.out), wrongArtifact.out.trim());
      // Tampered: the statement's subject digest changed inside the signed payload.
      const tampered = JSON.parse(readFileSync(first, 'utf8'));
      const st = JSON.parse(Buffer.from(tampered.dsseEnvelope.payload, 'base64').toString('utf8'));
      st.predicate = { ...st.predicate, version: '1.0.1' };
      tampered.dsseEnvelope.payload = Buffer.from(JSON.stringify(st)).toString('base64');
      const tamperedFile = join(work, 'tampered.sigstore');
      writeFileSync(tamperedFile, JSON.stringify(tampered));
      const t = aibom(['verify', tgz, '--bundle', tamperedFile, ...who]);
      check('a changed payload fails', t.code === 1, t.out.trim());
      // As `gh attestation download` writes them: JSON Lines, the good one last.
      const jsonl = join(work, 'all.jsonl');
      const lines = [JSON.stringify(tampered), ...bundles.map((b) => JSON.stringify(JSON.parse(readFileSync(join(jsBundles, b), 'utf8'))))];
      writeFileSync(jsonl, `${lines.join('\n')}\n`);
      const j = aibom(['verify', tgz, '--bundle', jsonl, ...who, '--json']);
      check('JSON Lines of all bundles', j.code === 0 && JSON.parse(j.stdout).bundle === `${jsonl}:2`, j.out.trim());
      const jBad = aibom(['verify', tgz, '--bundle', join(work, 'bad.jsonl'), ...who]);
      check('a missing bundle file is an input error', jBad.code === 2, jBad.out.trim());
    }
  }

  // ---- 2. DSSE with securesystemslib
  const probe = spawnSync(PYTHON, ['-c', 'import securesystemslib'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    check('python3-securesystemslib', false, `${PYTHON} cannot import securesystemslib (apt-get install python3-securesystemslib): ${probe.stderr?.trim() ?? probe.error}`);
  } else {
    for (const [curve, scheme] of [
      ['P-256', 'ecdsa-sha2-nistp256'],
      ['P-384', 'ecdsa-sha2-nistp384'],
    ]) {
      const pair = generateKeyPairSync('ec', { namedCurve: curve });
      const priv = join(work, `${curve}.pem`);
      writeFileSync(priv, pair.privateKey.export({ type: 'pkcs8', format: 'pem' }));
      const pem = pair.publicKey.export({ type: 'spki', format: 'pem' }).toString();
      const stFile = join(work, `${curve}.intoto.json`);
      writeFileSync(
        stFile,
        JSON.stringify({ _type: 'https://in-toto.io/Statement/v1', subject: [{ name: 'a', digest: { sha256: 'a'.repeat(64) } }], predicateType: 'https://example.test/p', predicate: {} }),
      );
      const s = aibom(['sign', stFile, '--in-toto', '--key', priv, '--no-tlog-upload']);
      check(`aibom signs DSSE with ${curve}`, s.code === 0, s.out.trim());
      if (s.code !== 0) continue;
      const envelope = JSON.parse(readFileSync(`${stFile}.sigstore.json`, 'utf8')).dsseEnvelope;
      const run = (env) => spawnSync(PYTHON, [join(repo, 'test', 'conformance', 'dsse_securesystemslib.py')], { input: JSON.stringify({ pem, scheme, envelope: env }), encoding: 'utf8' });
      const ok = run(envelope);
      check(`securesystemslib verifies aibom's ${curve} DSSE`, ok.status === 0 && ok.stdout.trim() === 'OK', `${ok.stdout}${ok.stderr}`.trim());
      const changed = { ...envelope, payload: Buffer.from('{"changed":true}').toString('base64') };
      const bad = run(changed);
      check(`securesystemslib refuses a changed ${curve} payload`, bad.status === 1, `${bad.stdout}${bad.stderr}`.trim());
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
console.log(`interop: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
