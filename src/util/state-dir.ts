/**
 * aibom's state folder on this machine: $AIBOM_STATE_DIR, else $XDG_STATE_HOME/aibom, else
 * ~/.local/state/aibom. It holds what must survive between runs and must not travel with a
 * cache (rollback high-water marks, the key that authenticates local caches).
 */
import { homedir } from 'node:os';
import { join } from 'node:path';

export function stateDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.AIBOM_STATE_DIR) return env.AIBOM_STATE_DIR;
  if (env.XDG_STATE_HOME) return join(env.XDG_STATE_HOME, 'aibom');
  return join(homedir(), '.local', 'state', 'aibom');
}
