/** Checking a runtime hook config against schemas/aibom-runtime.schema.json (precompiled). */
import { suggestion } from '../util/did-you-mean.js';
import { schemaValidator } from '../util/precompiled.js';

/** Top-level keys of a runtime config, and the names a policy file or a batch file uses for them. */
const RUNTIME_KEYS = [
  'bom', 'bundle', 'root', 'policy', 'trustedRoot', 'key', 'certificateIdentity', 'certificateIdentityRegexp',
  'certificateOidcIssuer', 'certificateOidcIssuerRegexp', 'pluginPaths', 'failOnMissing', 'cache',
];
const POLICY_NAMES: Record<string, string> = {
  identity: 'certificateIdentity',
  identityRegexp: 'certificateIdentityRegexp',
  issuer: 'certificateOidcIssuer',
  issuerRegexp: 'certificateOidcIssuerRegexp',
};

/** Problems in words (`pointer: message`), empty when valid. */
export function validateRuntimeConfig(data: unknown): string[] {
  const validate = schemaValidator('runtime-config', 'aibom-runtime.schema.json');
  if (validate(data)) return [];
  return (validate.errors ?? []).slice(0, 10).map((e) => {
    const where = e.instancePath ? e.instancePath.slice(1).replace(/\//g, '.') : '(top level)';
    if (e.keyword === 'additionalProperties') {
      const key = String(e.params.additionalProperty);
      return `${where}: unknown key "${key}"${e.instancePath ? '' : suggestion(key, RUNTIME_KEYS, POLICY_NAMES)}`;
    }
    return `${where}: ${e.message ?? e.keyword}`;
  });
}
