/**
 * aibom's library entry (`import … from 'aibom'`): the same API the CLI and the GitHub Action
 * are thin shells over, in pipeline order — inventory → BOM → signature → verification →
 * policy → report. Agents checking plugins at start-up import `aibom/runtime` instead, which
 * loads only what verification needs.
 */
export { AibomError, type ErrorCode, exitCodeFor } from './errors.js';

// Inventory: what a folder holds.
export { buildInventory, type Discoverer, type InventoryOptions } from './inventory/index.js';
export type { Component, Finding, Inventory, Service } from './inventory/types.js';
export { type FolderManifest, folderManifest, manifestDigest } from './digest/digest.js';

// The build: a folder → its AI-BOM, as `aibom build` and the GitHub Action build it.
export { type BuildAibomOptions, type BuiltAibom, buildAibom, IncompleteInventoryError } from './build/aibom.js';

// BOM: CycloneDX JSON, always schema-validated.
export { type BomJson, type BomOptions, buildBom, serializeBom } from './bom/build.js';
export { type SchemaError, validateBomJson } from './bom/validate.js';

// Signing (Sigstore bundles: files, model_signing folders, in-toto attestations).
export { resolveSigningIdentity } from './signature/identity.js';
export { signFile } from './signature/sign-file.js';
export { signFolder } from './signature/sign-folder.js';
export { attest } from './signature/attest.js';

// Verification (offline trust material, anchored identities).
export { type VerifyRequest, VerifySession } from './verification/run.js';
export type { VerificationResult } from './verification/result.js';
export { type CertificateClaims, certificateClaims } from './verification/claims.js';
export type { ClaimOptions } from './verification/claim-policy.js';

// Policy and the release gate.
export { loadPolicy } from './policy/load.js';
export { defaultPolicy, type Policy } from './policy/types.js';
export { evaluatePolicy, type GateResult } from './policy/evaluate.js';
export { type GateOptions, runGate } from './gate/gate.js';
export { type ProvenanceLock, readLock } from './policy/provenance-lock.js';
export { VSA_PREDICATE_TYPE, type VsaPredicate } from './attestation/vsa.js';

// Reports.
export { type InventoryReport, type InventoryRow, inventoryFromBom } from './bom/rows.js';
export { diffInventories, type DiffResult } from './report/diff.js';
export { auditToSarif, gateToSarif } from './report/sarif.js';

// MCP tool-definition pins: check a server's live tools against the BOM before exposing them.
export { McpToolsChangedError, type PinnedServer, pinnedServers, type VerifyMcpToolsOptions, verifyMcpTools } from './mcp-tools/verify.js';
export { pinTools, type ToolPin, type ToolSetPin, toolHash } from './mcp-tools/definitions.js';
