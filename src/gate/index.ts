/** gate/: the release gate, `aibom gate` (the public face; see ARCHITECTURE.md). */
export { type GateOptions, runGate } from './gate.js';
