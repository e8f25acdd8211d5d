/** attestation/: in-toto statements and predicates (the public face; see ARCHITECTURE.md). */
export { VSA_PREDICATE_TYPE, type VsaPredicate } from './vsa.js';
