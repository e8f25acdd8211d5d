/**
 * Policy files, in-process (loadPolicy, the loader the gate, the Action and the start-up check
 * use): unknown rule ids are errors naming the line and the closest id; a key named as the CLI
 * or the runtime config names it gets "did you mean" the policy's name.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AibomError } from '../src/errors.js';
import { loadPolicy } from '../src/policy/load.js';
import { tempDir } from './helpers/cli.js';

let tmp: { dir: string; cleanup: () => Promise<void> };
beforeAll(async () => {
  tmp = await tempDir('aibom-policy-load-');
});
afterAll(() => tmp?.cleanup());

async function refusal(name: string, text: string): Promise<string> {
  const file = join(tmp.dir, name);
  await writeFile(file, text);
  try {
    await loadPolicy(file);
  } catch (err) {
    expect(err).toBeInstanceOf(AibomError);
    expect((err as AibomError).file).toBe(file);
    return (err as Error).message;
  }
  throw new Error(`${name} was accepted`);
}

describe('policy files', () => {
  it('an exception naming an unknown rule id is an error, with the line and the closest id', async () => {
    const msg = await refusal(
      'typo.yaml',
      'version: 1\nexceptions:\n  - component: calculator\n    rules: [plugin-signd]\n    reason: in-house plugin\n    expires: "2027-12-31"\n',
    );
    expect(msg).toMatch(/^line 4: exceptions\.0\.rules\.0: unknown rule id "plugin-signd" \(did you mean "plugin-signed"\?\); rule ids: model-hashed, /);
    expect(msg).toContain('plugin-digest');
  });

  it('known rule ids, the start-up check ids and * load', async () => {
    const file = join(tmp.dir, 'ok.yaml');
    await writeFile(file, 'version: 1\nexceptions:\n  - component: calculator\n    rules: [plugin-signed, plugin-digest, "*"]\n    reason: in-house plugin\n    expires: "2027-12-31"\n');
    const p = await loadPolicy(file);
    expect(p.exceptions[0]!.rules).toEqual(['plugin-signed', 'plugin-digest', '*']);
  });

  it('an unknown rule under rules: is an error too, with the closest id', async () => {
    expect(await refusal('rules.yaml', 'version: 1\nrules:\n  pickle-models: false\n')).toContain('line 3: rules: unknown key "pickle-models" (did you mean "pickle-model"?)');
  });

  it('identity keys named as the CLI flags or the runtime config name them: "did you mean" the policy key', async () => {
    const msg = await refusal(
      'names.yaml',
      'version: 1\nrelease:\n  certificateIdentityRegexp: "https://github\\\\.com/acme/agent/.*"\n  certificateOidcIssuer: https://token.actions.githubusercontent.com\n',
    );
    expect(msg).toContain('line 3: release: unknown key "certificateIdentityRegexp" (did you mean "identityRegexp"?)');
    expect(msg).toContain('line 4: release: unknown key "certificateOidcIssuer" (did you mean "issuer"?)');
  });
});

describe('identity key names across policy, runtime config and batch files', () => {
  it('a runtime config with the policy names says which name it takes', async () => {
    const { validateRuntimeConfig } = await import('../src/runtime/config-schema.js');
    expect(validateRuntimeConfig({ bom: 'aibom.cdx.json', identityRegexp: 'x', issuer: 'https://issuer.example' })).toEqual([
      '(top level): unknown key "identityRegexp" (did you mean "certificateIdentityRegexp"?)',
      '(top level): unknown key "issuer" (did you mean "certificateOidcIssuer"?)',
    ]);
    expect(validateRuntimeConfig({ bom: 'aibom.cdx.json', certificateIdentity: 'a', certificateOidcIssuer: 'b' })).toEqual([]);
  });

  it('a batch file takes both names; a misspelt one gets "did you mean"', async () => {
    const { readBatch } = await import('../src/verification/batch.js');
    const file = join(tmp.dir, 'checks.jsonl');
    await writeFile(
      file,
      `${JSON.stringify({ artifact: 'a.tgz', identity: 'https://id.example/x', issuer: 'https://issuer.example' })}\n${JSON.stringify({ artifact: 'b.tgz', certificateIdentityRegex: 'x', issuer: 'y' })}\n`,
    );
    const entries = await readBatch(file, {});
    expect(entries[0]!.error).toBeUndefined();
    expect(entries[1]!.error).toContain('unknown field "certificateIdentityRegex" (did you mean "certificateIdentityRegexp"?)');
  });
});
