/** digest/: file and folder digests (the public face; see ARCHITECTURE.md). */
export { type FolderManifest, folderManifest, manifestDigest } from './digest.js';
