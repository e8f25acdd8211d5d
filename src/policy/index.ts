/** policy/: the policy file and its rules (the public face; see ARCHITECTURE.md). */
export { loadPolicy } from './load.js';
export { defaultPolicy, type Policy } from './types.js';
export { evaluatePolicy, type GateResult } from './evaluate.js';
export { type ProvenanceLock, readLock } from './provenance-lock.js';
