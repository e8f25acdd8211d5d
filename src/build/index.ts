/** build/: a folder → its AI-BOM, as `aibom build` and the GitHub Action build it (the public face; see ARCHITECTURE.md). */
export { type BuildAibomOptions, type BuiltAibom, buildAibom, IncompleteInventoryError } from './aibom.js';
