/** signature/: Sigstore signing of files, model_signing folders and in-toto attestations (the public face; see ARCHITECTURE.md). */
export { resolveSigningIdentity } from './identity.js';
export { signFile } from './sign-file.js';
export { signFolder } from './sign-folder.js';
export { attest } from './attest.js';
