/**
 * Third outside report, finding 10: the library's verifyPlugins / assertPlugins took any
 * options object, so a misspelt claim constraint (`sourceRepositry`) constrained nothing and a
 * BOM from another repository passed. Every option must be one verifyPlugins reads.
 */
import { describe, expect, it } from 'vitest';
import { AibomError } from '../src/errors.js';
import { assertPlugins, verifyPlugins } from '../src/runtime/index.js';

describe('verifyPlugins options', () => {
  for (const [typo, hint] of [
    ['sourceRepositry', 'sourceRepository'],
    ['certificateIdentityRegex', 'certificateIdentityRegexp'],
    ['denyTriggers', 'denyTrigger'],
    ['trusted_root', 'trustedRoot'],
    ['signerWorkflw', 'signerWorkflow'],
  ] as const) {
    it(`refuses ${typo} before reading anything${hint ? `, suggesting ${hint}` : ''}`, async () => {
      const options = { bom: 'no-such-bom.json', certificateIdentity: 'x', certificateOidcIssuer: 'y', [typo]: 'https://github.com/acme/agent' };
      for (const run of [verifyPlugins, assertPlugins]) {
        const err = await run(options as never).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(AibomError);
        expect((err as AibomError).code).toBe('USAGE');
        expect((err as Error).message).toBe(`verifyPlugins: unknown option "${typo}"${hint ? ` (did you mean "${hint}"?)` : ''}`);
      }
    });
  }

  it('refuses a non-object', async () => {
    await expect(verifyPlugins(null as never)).rejects.toThrow('verifyPlugins: options must be an object');
  });
});

describe('runGate and buildAibom options (fourth outside report, finding 5)', () => {
  it('runGate refuses a misspelt claim constraint, and a misspelt lock option, before reading anything', async () => {
    const { runGate } = await import('../src/gate/gate.js');
    await expect(runGate({ bom: 'no-such.json', sourceRepositry: 'https://github.com/acme/agent' } as never)).rejects.toThrow(
      'runGate: unknown option "sourceRepositry" (did you mean "sourceRepository"?)',
    );
    await expect(runGate({ bom: 'no-such.json', lock: { file: 'l.json', frozn: true } } as never)).rejects.toThrow('runGate: lock: unknown option "frozn" (did you mean "frozen"?)');
  });

  it('buildAibom refuses a misspelt option', async () => {
    const { buildAibom } = await import('../src/build/aibom.js');
    await expect(buildAibom('.', { polcy: 'p.yaml' } as never)).rejects.toThrow('buildAibom: unknown option "polcy" (did you mean "policy"?)');
    await expect(buildAibom('.', { npmProvenance: { regsitry: 'x' } } as never)).rejects.toThrow('buildAibom: npmProvenance: unknown option "regsitry" (did you mean "registry"?)');
  });
});
