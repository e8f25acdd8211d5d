/**
 * What the start-up check takes and what it answers: options, per-plugin results, reasons.
 * The lock is the signed AI-BOM; see lock.ts for what it pins per plugin.
 */
import type { Policy } from '../policy/types.js';
import type { SignerIdentityOptions } from '../verification/identity-policy.js';

/** Why a plugin was refused (or why the BOM was not trusted). Stable codes: scripts match on them. */
export type ReasonCode =
  /** The BOM's own signature does not verify against the expected release identity: nothing in it is trusted. */
  | 'bom-untrusted'
  /** The BOM verifies, but it is an older release than one that already started here, or than the policy's release.minVersion / notBefore. */
  | 'bom-rollback'
  /** The plugin folder's model_signing digest is not the pinned one (files changed, added or removed). */
  | 'digest-mismatch'
  /** The version in the plugin's manifest is not the pinned version (or the manifest is gone). */
  | 'version-mismatch'
  /** A symbolic link in the plugin folder (or the folder itself) leads outside it, or was not in the BOM. */
  | 'symlink'
  /** The plugin folder is not a plain folder inside the agent root (a file, a special file, reached through a link). */
  | 'not-a-folder'
  /** A publisher signature is required and the plugin has none (no bundle, or no pinned or trusted publisher). */
  | 'signature-missing'
  /** The plugin's publisher bundle does not verify (bad signature, wrong folder, malformed, wrong signer). */
  | 'signature-invalid'
  /** A plugin folder on disk that the BOM does not list (deny by default). */
  | 'unlisted'
  /** A plugin the BOM lists is not on disk (refused only with failOnMissing). */
  | 'missing'
  /** The BOM records the plugin without a folder digest or version: nothing to compare against. */
  | 'not-pinned'
  /** The folder or a file in it could not be read. */
  | 'unreadable'
  /** A policy exception would cover the problem, but it expired. */
  | 'exception-expired';

export interface PluginReason {
  code: ReasonCode;
  message: string;
}

export type PluginStatus =
  /** Every check passed. */
  | 'verified'
  /** A check failed, and a live policy exception (reason + expiry) covers every failure. */
  | 'excepted'
  /** Listed in the BOM, not on disk: reported (refused only with failOnMissing). */
  | 'missing'
  /** Do not load it. */
  | 'refused';

export interface PluginSigner {
  method: 'key' | 'keyless';
  /** `sha256:<hex>` of the DER SubjectPublicKeyInfo (key). */
  keyFingerprint?: string;
  /** Certificate identity (SAN) and OIDC issuer (keyless). */
  identity?: string;
  issuer?: string;
}

export interface PluginResult {
  /** The plugin's name as its manifest gives it (`@scope/name` for scoped npm packages); the folder name when unlisted. */
  name: string;
  /** Pinned version (from the BOM). */
  version?: string;
  /** Install path relative to the agent root (POSIX). */
  path: string;
  /** The folder digest found on disk (`sha256:<hex>`), when it was computed. */
  digest?: string;
  /** The pinned folder digest. */
  pinnedDigest?: string;
  /** Who signed the plugin (verified), when a publisher signature was checked. */
  signer?: PluginSigner;
  status: PluginStatus;
  /** Empty for verified plugins. For excepted ones: what the exception covers. */
  reasons: PluginReason[];
  /** The policy exception that applied (live or expired). */
  exception?: { component: string; reason: string; expires: string };
  /** bom-ref of the plugin in the BOM. */
  ref?: string;
}

export interface BomCheck {
  /** The BOM file as given. */
  file: string;
  bundle: string;
  verified: boolean;
  /** Who signed the BOM, when verified. */
  signer?: { identity?: string; issuer?: string; method: string };
  signedAt?: string;
  /** Why not, when not verified. */
  reason?: string;
  /** Why the verified BOM is refused as an older release (rollback), when it is. */
  rollback?: string;
}

export interface VerifyPluginsResult {
  /** True when no plugin is refused and the BOM verified. */
  ok: boolean;
  bom: BomCheck;
  /** Agent root (absolute). */
  root: string;
  plugins: PluginResult[];
  /** Digests reused from the digest cache, when it is on. */
  cache?: { hits: number; misses: number; dir: string };
}

/** Who signs releases (`key`: a PEM public key file). */
export type ReleaseIdentity = SignerIdentityOptions;

export interface VerifyPluginsOptions extends ReleaseIdentity {
  /** The signed AI-BOM (the lock). */
  bom: string;
  /** The BOM's Sigstore bundle (default: BOM.sigstore.json). */
  bundle?: string;
  /** The agent's root folder, which the BOM's install paths are relative to (default: the working directory). */
  root?: string;
  /** A policy file (YAML/JSON, schemas/aibom-policy.schema.json) or an already loaded policy. */
  policy?: string | Policy;
  /** Sigstore trusted root JSON (default: cached by `aibom trust update`, else the public-good root). */
  trustedRoot?: string;
  /**
   * Reuse folder digests across runs, keyed on every file's device, inode, size, mtime and
   * ctime: `true` for the default cache folder, or a folder. Off by default (see README: it
   * trades a TOCTOU window for speed).
   */
  cache?: boolean | string;
  /** More plugin folders (relative to root) to look for unlisted plugins in, besides those the BOM names. */
  pluginPaths?: string[];
  /** Refuse (instead of only reporting) plugins the BOM lists that are not on disk. */
  failOnMissing?: boolean;
  /**
   * Folder of the rollback high-water marks (default $AIBOM_STATE_DIR, $XDG_STATE_HOME/aibom,
   * ~/.local/state/aibom). Must belong to the user and be writable by no one else.
   */
  stateDir?: string;
  /**
   * Accept this exact BOM (`sha256:<hex>` of its bytes) although it cannot be proven newer
   * than the release that already started here (a re-issue with the same version and no or
   * the same timestamp). Any other BOM is still refused.
   */
  acceptBom?: string;
  /** Today, for exception expiry (tests). */
  now?: Date;
  /** Environment (cache folder, trusted-root cache); default process.env. */
  env?: NodeJS.ProcessEnv;
}

/** A file as the digest cache keys it. */
export interface FileIdentity {
  dev: bigint;
  ino: bigint;
  size: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
}
