/** provenance/: npm provenance of the inventory's packages, the build step (the public face; see ARCHITECTURE.md). */
export { npmProvenanceStep, type ProvenanceStepOptions, type ProvenanceSummary } from './build-step.js';
