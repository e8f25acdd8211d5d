/**
 * aibom's library entry (`import … from 'aibom'`): the same API the CLI and the GitHub Action
 * are thin shells over, in pipeline order — inventory → BOM → signature → verification →
 * policy → report. Agents checking plugins at start-up import `aibom/runtime` instead, which
 * loads only what verification needs. Each folder is imported through its index.ts, its public
 * face (ARCHITECTURE.md).
 */
export { AibomError, type ErrorCode, exitCodeFor } from './errors.js';

// Inventory: what a folder holds.
export { buildInventory, type Discoverer, type InventoryOptions } from './inventory/index.js';
export type { Component, Finding, Inventory, Service } from './inventory/index.js';
export { type FolderManifest, folderManifest, manifestDigest } from './digest/index.js';

// The build: a folder → its AI-BOM, as `aibom build` and the GitHub Action build it.
export { type BuildAibomOptions, type BuiltAibom, buildAibom, IncompleteInventoryError } from './build/index.js';

// BOM: CycloneDX JSON, always schema-validated.
export { type BomJson, type BomOptions, buildBom, serializeBom } from './bom/index.js';
export { type SchemaError, validateBomJson } from './bom/index.js';

// Signing (Sigstore bundles: files, model_signing folders, in-toto attestations).
export { resolveSigningIdentity } from './signature/index.js';
export { signFile } from './signature/index.js';
export { signFolder } from './signature/index.js';
export { attest } from './signature/index.js';

// Verification (offline trust material, anchored identities).
export { type VerifyRequest, VerifySession } from './verification/index.js';
export type { VerificationResult } from './verification/index.js';
export { type CertificateClaims, certificateClaims } from './verification/index.js';
export type { ClaimOptions } from './verification/index.js';

// Policy and the release gate.
export { loadPolicy } from './policy/index.js';
export { defaultPolicy, type Policy } from './policy/index.js';
export { evaluatePolicy, type GateResult } from './policy/index.js';
export { type GateOptions, runGate } from './gate/index.js';
export { type ProvenanceLock, readLock } from './policy/index.js';
export { VSA_PREDICATE_TYPE, type VsaPredicate } from './attestation/index.js';

// Reports.
export { type InventoryReport, type InventoryRow, inventoryFromBom } from './bom/index.js';
export { diffInventories, type DiffResult } from './report/index.js';
export { auditToSarif, gateToSarif } from './report/index.js';

// MCP tool-definition pins: check a server's live tools against the BOM before exposing them.
export { McpToolsChangedError, type PinnedServer, pinnedServers, type VerifyMcpToolsOptions, verifyMcpTools } from './mcp-tools/index.js';
export { pinTools, type ToolPin, type ToolSetPin, toolHash } from './mcp-tools/index.js';
