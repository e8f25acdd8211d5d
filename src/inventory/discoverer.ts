/**
 * What a discoverer is: the context it gets (the walked tree, the project, the options) and
 * what it returns. Each discoverer (packages, models, datasets, plugins, MCP servers, agent
 * parts, services) imports these types from here, never from the index that runs them.
 */
import type { AibomConfig } from './config.js';
import type { Component, Finding, Service } from './types.js';
import type { WalkResult } from './walk.js';

export interface InventoryOptions {
  /** Globs (POSIX, relative to the root) to leave out. */
  exclude?: string[];
  /** Follow symlinks that stay inside the root. */
  followSymlinks?: boolean;
  /** Bound for one lockfile's size in bytes. */
  maxLockfileBytes?: number;
  /** Called with progress messages for long work (only shown on a TTY by the CLI). */
  onProgress?: (event: ProgressEvent) => void;
  /**
   * Settings read by discoverers (aibom.config.*). buildInventory loads the config file once
   * (from `configFile`, else the one at the root) when this is not given.
   */
  config?: AibomConfig;
  /** A config file named by the user (`--config FILE`), instead of aibom.config.* at the root. */
  configFile?: string;
  /**
   * Return the inventory even when an input could not be read (its fatal findings say which).
   * Without it buildInventory throws: a BOM that silently lacks a lockfile's packages must
   * never be written, let alone signed.
   */
  keepGoing?: boolean;
}

export interface ProgressEvent {
  phase: string;
  done?: number;
  total?: number;
  /** Bytes processed and total, for hashing. */
  bytes?: number;
  totalBytes?: number;
}

export interface DiscoverContext {
  /** Absolute root folder. */
  root: string;
  walked: WalkResult;
  project: Component;
  options: InventoryOptions;
  /**
   * Files an earlier discoverer read under rules of their own (an Agent Plugins package's
   * mcp.json); later discoverers leave them alone. Shared by every discoverer of one build.
   */
  claimed?: Set<string>;
}

export interface DiscoverResult {
  components?: Component[];
  services?: Service[];
  /** bom-ref → bom-refs */
  dependencies?: Map<string, Set<string>>;
  /** Refs the project itself depends on directly. */
  rootDependencies?: string[];
  findings?: Finding[];
}

/**
 * A discoverer finds one kind of thing in a walked tree (lockfile packages, models,
 * plugins, MCP servers). The inventory is the union of what every discoverer returns.
 */
export interface Discoverer {
  name: string;
  discover(ctx: DiscoverContext): Promise<DiscoverResult>;
}
