/**
 * The load-time check (time of check vs time of use): after the start-up check, every module
 * Node loads from a plugin folder is compared, on the exact source bytes Node is about to
 * evaluate, against the digest the check verified; a module that differs, or that the check
 * never saw (a file added later, a lazily loaded file that was never pinned), throws before it
 * is evaluated. Built on Node's synchronous module customization hooks (`module.registerHooks`,
 * Node ≥ 22.15 / 23.5), which see `import`, `import()` and `require()` alike.
 *
 * And what a plugin's own imports resolve to: from a module in a plugin folder, a resolution
 * that lands between the plugin folders and the agent root (a package.json self-reference, a
 * node_modules or index file on the way up) must be a file the BOM pins, else it throws.
 *
 * Outside it, on purpose: files a plugin reads with `fs` (data, templates), processes it
 * spawns, native addons between resolution and `dlopen` (checked when resolved, not when
 * loaded), and hooks a verified plugin registers itself (they run before this one).
 */
import { createHash } from 'node:crypto';
import { readFileSync, realpathSync } from 'node:fs';
import module from 'node:module';
import { sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AibomError } from '../errors.js';
import { type LoadPins, pinnedDigest } from './load-pins.js';

/** Thrown (with code `VERIFY_FAILED`) when a module fails the load-time check; the module is not evaluated. */
export class ModuleRefusedError extends AibomError {
  readonly path: string;
  constructor(path: string, message: string) {
    super('VERIFY_FAILED', `refused to load ${path}: ${message}`);
    this.name = 'ModuleRefusedError';
    this.path = path;
  }
}

type Source = string | ArrayBuffer | ArrayBufferView | null | undefined;

type RegisterHooks = (hooks: {
    resolve?: (specifier: string, context: { parentURL?: string }, next: (s: string, c?: unknown) => { url: string; format?: string | null }) => { url: string; format?: string | null };
    load?: (url: string, context: unknown, next: (u: string, c?: unknown) => { format?: string | null; source?: Source }) => { format?: string | null; source?: Source };
}) => { deregister(): void };

/** Whether this Node has synchronous module hooks. */
export function canHookLoads(): boolean {
  return typeof (module as unknown as { registerHooks?: unknown }).registerHooks === 'function';
}

const under = (p: string, dirs: string[]) => dirs.some((d) => p === d || p.startsWith(d.endsWith(sep) ? d : d + sep));

function realOf(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}

function bytesOf(source: Source): Buffer | undefined {
  if (source === null || source === undefined) return undefined;
  if (typeof source === 'string') return Buffer.from(source, 'utf8');
  if (source instanceof ArrayBuffer) return Buffer.from(source);
  return Buffer.from(source.buffer, source.byteOffset, source.byteLength);
}

/**
 * The module's expected digest: a file the check verified (in a plugin folder, or pinned
 * between one and the root); undefined for a module outside the plugin folders the check did
 * not pin (the agent's own code); throws for one inside a plugin folder the check never saw.
 */
function expected(pins: LoadPins, path: string): { key: string; hex: string } | undefined {
  const real = realOf(path);
  const hex = pinnedDigest(pins, path) ?? (real !== path ? pinnedDigest(pins, real) : undefined);
  if (hex !== undefined) return { key: path, hex };
  const inside = under(path, pins.pluginDirs) || under(real, pins.pluginDirs);
  if (!inside) return undefined;
  if (hex === undefined) throw new ModuleRefusedError(path, 'it is in a plugin folder and the start-up check did not verify it (not pinned in the signed AI-BOM)');
  return { key: path, hex };
}

/**
 * Install the hooks for what a start-up check verified. Returns a function that removes them.
 * Throws when this Node has no `module.registerHooks` (fail closed: no unchecked loads).
 */
export function installLoadHook(pins: LoadPins): () => void {
  const register = (module as unknown as { registerHooks?: RegisterHooks }).registerHooks;
  if (typeof register !== 'function') {
    throw new AibomError('UNSUPPORTED', `Node ${process.version} has no module.registerHooks (Node ≥ 22.15 has): the load-time check cannot run`);
  }
  const handle = register({
    resolve(specifier, context, next) {
      const r = next(specifier, context);
      if (!r.url.startsWith('file:') || !context.parentURL?.startsWith('file:')) return r;
      const parent = fileURLToPath(context.parentURL);
      if (!under(parent, pins.pluginDirs) && !under(realOf(parent), pins.pluginDirs)) return r;
      const path = fileURLToPath(r.url);
      const real = realOf(path);
      const inPlugins = under(path, pins.pluginDirs) || under(real, pins.pluginDirs);
      const between = !inPlugins && (under(path, pins.betweenDirs) || under(real, pins.betweenDirs));
      if (between && pinnedDigest(pins, path) === undefined && pinnedDigest(pins, real) === undefined) {
        throw new ModuleRefusedError(path, `a plugin's import ${JSON.stringify(specifier)} resolves between the plugin folders and the agent root, to a file the signed AI-BOM does not pin`);
      }
      // Native addons are loaded by dlopen, not through `load`: checked here, when resolved.
      if (/\.node$/i.test(path)) {
        const want = inPlugins ? expected(pins, path) : undefined;
        if (want && createHash('sha256').update(readFileSync(path)).digest('hex') !== want.hex) {
          throw new ModuleRefusedError(path, 'the native addon is not the file the start-up check verified');
        }
      }
      return r;
    },
    load(url, context, next) {
      const r = next(url, context);
      if (!url.startsWith('file:')) return r;
      const path = fileURLToPath(url);
      const want = expected(pins, path);
      if (!want) return r;
      const bytes = bytesOf(r.source);
      if (!bytes) throw new ModuleRefusedError(path, 'Node gave no source bytes to check');
      const hex = createHash('sha256').update(bytes).digest('hex');
      if (hex !== want.hex) {
        throw new ModuleRefusedError(path, `its bytes changed since the start-up check verified them (sha256:${hex}, verified sha256:${want.hex})`);
      }
      return r;
    },
  });
  return () => handle.deregister();
}
