/**
 * `aibom/runtime`: verify an agent's plugins at start-up against its signed AI-BOM, before
 * any plugin code is imported.
 *
 *   import { assertPlugins } from 'aibom/runtime';
 *   await assertPlugins({ bom: 'aibom.cdx.json', bundle: 'aibom.cdx.json.sigstore.json',
 *     certificateIdentity: 'https://github.com/acme/agent/.github/workflows/release.yml@refs/tags/v1.4.0',
 *     certificateOidcIssuer: 'https://token.actions.githubusercontent.com' });
 *
 * This entry loads only what verification needs (@sigstore/verify and aibom's verification
 * code); the policy loader, YAML/TOML parsers and picomatch load only when a policy or a
 * non-JSON manifest asks for them; never the signing code, TUF or the BOM builder.
 */
import { AibomError } from '../errors.js';
import { formatReport } from './report.js';
import type { PluginResult, VerifyPluginsOptions, VerifyPluginsResult } from './types.js';
import { installLoadHook } from './load-hook.js';
import { loadPinsOf } from './load-pins.js';
import { verifyPlugins } from './verify-plugins.js';

export { formatReport } from './report.js';
export type {
  BomCheck,
  PluginReason,
  PluginResult,
  PluginSigner,
  PluginStatus,
  ReasonCode,
  ReleaseIdentity,
  VerifyPluginsOptions,
  VerifyPluginsResult,
} from './types.js';
export { STARTUP_RULES, verifyPlugins } from './verify-plugins.js';
export { canHookLoads, ModuleRefusedError } from './load-hook.js';
export { AibomError } from '../errors.js';

/**
 * Thrown by assertPlugins when the BOM does not verify or any plugin is refused. `code` is
 * 'VERIFY_FAILED'; `refused` lists every refused plugin with its reasons; `result` is the
 * whole report.
 */
export class PluginsRefusedError extends AibomError {
  readonly refused: PluginResult[];
  readonly result: VerifyPluginsResult;
  readonly report: string;

  constructor(result: VerifyPluginsResult) {
    const refused = result.plugins.filter((p) => p.status === 'refused');
    const what = result.bom.rollback
      ? `the AI-BOM is refused as an older release (${result.bom.rollback})`
      : !result.bom.verified
      ? `the AI-BOM's signature does not verify (${result.bom.reason ?? 'not verified'})`
      : `${refused.length} plugin${refused.length === 1 ? '' : 's'} refused: ${refused.map((p) => `${p.path} (${[...new Set(p.reasons.map((r) => r.code))].join(', ')})`).join('; ')}`;
    super('VERIFY_FAILED', what, { file: result.bom.file });
    this.name = 'PluginsRefusedError';
    this.refused = refused;
    this.result = result;
    this.report = formatReport(result);
  }
}

/** verifyPlugins, throwing PluginsRefusedError unless everything verified (or is excepted). */
export async function assertPlugins(options: VerifyPluginsOptions): Promise<VerifyPluginsResult> {
  const result = await verifyPlugins(options);
  if (!result.ok) throw new PluginsRefusedError(result);
  return result;
}

/**
 * After a passing check: check every module Node loads from a plugin folder, on the bytes it
 * is about to evaluate, against what the check verified (module.registerHooks; see
 * load-hook.ts). A module that changed since, or that the check never saw, throws
 * ModuleRefusedError before it runs. Returns a function that removes the hooks.
 */
export function guardPluginLoads(result: VerifyPluginsResult): () => void {
  const pins = loadPinsOf(result);
  if (!result.ok || !pins) throw new AibomError('USAGE', 'guardPluginLoads needs the passing result of verifyPlugins or assertPlugins');
  return installLoadHook(pins);
}
