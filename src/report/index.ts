/** report/: reports on BOMs and gate results (the public face; see ARCHITECTURE.md). */
export { diffInventories, type DiffResult } from './diff.js';
export { auditToSarif, gateToSarif } from './sarif.js';
