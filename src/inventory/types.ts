/**
 * The inventory: what aibom found in a folder, before it becomes a CycloneDX BOM.
 * Every discoverer (lockfiles, models, datasets, plugins, MCP configs) produces these
 * plain objects; src/bom turns them into CycloneDX. Paths are POSIX, relative to the
 * scanned root.
 */

/** CycloneDX hash algorithm names. Content is lowercase hex. */
export type HashAlg = 'MD5' | 'SHA-1' | 'SHA-256' | 'SHA-384' | 'SHA-512' | 'SHA3-256' | 'SHA3-384' | 'SHA3-512';

export interface Hash {
  alg: HashAlg;
  content: string;
}

/** Where a component came from. */
export type SourceKind =
  | 'registry' // a package registry (npm, PyPI, ...)
  | 'git' // a git repository
  | 'url' // a tarball or file URL
  | 'file' // a local file or tarball
  | 'directory' // a local folder (file:, link:, path dependencies)
  | 'workspace' // a workspace member of the project itself
  | 'huggingface' // a Hugging Face repository
  | 'local' // found on disk, origin unknown (models, plugins)
  | 'unknown';

export interface Provenance {
  source: SourceKind;
  /** Where exactly (registry tarball URL, git URL with ref, file path). */
  url?: string;
  /** Is the source pinned to immutable content (exact version + integrity, git commit, URL + hash)? */
  pinned: boolean;
  /** Why it is not pinned, in words a person can act on. */
  unpinnedReason?: string;
}

/** A place in a scanned file, for reports and SARIF. */
export interface Location {
  file: string;
  line?: number;
}

export interface Property {
  name: string;
  value: string;
}

export type ComponentType =
  | 'application'
  | 'framework'
  | 'library'
  | 'container'
  | 'platform'
  | 'operating-system'
  | 'device'
  | 'device-driver'
  | 'firmware'
  | 'file'
  | 'machine-learning-model'
  | 'data'
  | 'cryptographic-asset';

export interface ExternalReference {
  /** CycloneDX external reference type, e.g. 'vcs', 'distribution', 'website'. */
  type: string;
  url: string;
  comment?: string;
}

export interface Component {
  /** bom-ref: unique within the inventory. Packages use their purl. */
  ref: string;
  type: ComponentType;
  name: string;
  group?: string;
  version?: string;
  description?: string;
  purl?: string;
  scope?: 'required' | 'optional' | 'excluded';
  hashes: Hash[];
  /** SPDX license ids or expressions; anything else is kept as a license name. */
  licenses?: string[];
  externalReferences?: ExternalReference[];
  /** Extra facts, `aibom:` namespace (see schemas/aibom-properties.md) or CycloneDX taxonomy. */
  properties: Property[];
  provenance?: Provenance;
  locations: Location[];
  /**
   * CycloneDX JSON fields the cyclonedx library does not model (modelCard, data, pedigree,
   * ...). Merged into the normalized component as is, then schema-validated.
   */
  extra?: Record<string, unknown>;
}

export interface Service {
  ref: string;
  name: string;
  version?: string;
  group?: string;
  description?: string;
  endpoints?: string[];
  /** Does this service cross a trust boundary (remote)? */
  trustZone?: string;
  properties: Property[];
  provenance?: Provenance;
  locations: Location[];
  extra?: Record<string, unknown>;
}

export type Severity = 'info' | 'low' | 'medium' | 'high' | 'critical';

/** Something a person should know: a risk, a parse problem, a skipped file. */
export interface Finding {
  /** Stable id, e.g. 'lockfile-unknown-version', 'pickle-unsafe-import'. */
  code: string;
  severity: Severity;
  message: string;
  /** bom-ref of the component it is about. */
  component?: string;
  location?: Location;
  /**
   * The input could not be read at all, so the BOM would silently miss it (a malformed
   * lockfile, say). `aibom build` refuses to write a BOM with fatal findings unless told
   * to keep going.
   */
  fatal?: boolean;
}

export interface Inventory {
  /** The project itself: the BOM's metadata.component. */
  root: Component;
  components: Component[];
  services: Service[];
  /** bom-ref → bom-refs it depends on. The root's edges are under root.ref. */
  dependencies: Map<string, Set<string>>;
  findings: Finding[];
}

/** Properties namespace for aibom's own facts. */
export const NS = 'aibom:';

export function prop(name: string, value: string | number | boolean): Property {
  return { name, value: String(value) };
}
