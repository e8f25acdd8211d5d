/**
 * Who signs: a private key (`--key`), or an OIDC identity (keyless, through Fulcio). Resolves
 * the flags into a SigningIdentity: the key or token plus the services to talk to. Services are
 * resolved first, so a bad signing config is reported before any token is requested.
 */
import { AibomError } from '../errors.js';
import type { SigningIdentity } from './bundle-builder.js';
import { findIdentityToken } from './identity-token.js';
import { loadPrivateKey } from './key-signer.js';
import { resolveServices, type ServiceOptions } from './services.js';

export interface IdentityOptions extends ServiceOptions {
  identityToken?: string;
  key?: string;
  env?: NodeJS.ProcessEnv;
}

export async function resolveSigningIdentity(options: IdentityOptions): Promise<SigningIdentity> {
  const env = options.env ?? process.env;
  if (options.key !== undefined) {
    if (options.identityToken !== undefined) {
      throw new AibomError('USAGE', 'use either --key (key signing) or --identity-token (keyless), not both');
    }
    const services = await resolveServices('key', options);
    const key = await loadPrivateKey(options.key, env.AIBOM_KEY_PASSWORD || undefined);
    return { mode: 'key', key, keyFile: options.key, services };
  }
  const services = await resolveServices('keyless', options);
  const token = await findIdentityToken({ ...(options.identityToken !== undefined ? { identityToken: options.identityToken } : {}), env });
  if (!token) {
    throw new AibomError(
      'USAGE',
      'no signing identity: pass --identity-token TOKEN, set SIGSTORE_ID_TOKEN, run in GitHub Actions with ' +
        '`permissions: id-token: write`, or sign with a key (--key FILE)',
    );
  }
  return { mode: 'keyless', token, services };
}
