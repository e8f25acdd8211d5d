/** `aibom gate --lock FILE [--accept-drift NAME]... [--frozen-lock]`: the provenance lock's flags. */
import type { Command } from 'commander';
import type { LockOptions } from '../src/policy/provenance-lock.js';
import { collect, usageError } from './io.js';

export interface LockFlags {
  lock?: string;
  acceptDrift?: string[];
  frozenLock?: boolean;
}

export function addLockFlags(cmd: Command): Command {
  return cmd
    .option('--lock <file>', 'provenance lock (e.g. aibom.lock.json): record signers on first use, then fail on provenance-drift')
    .option('--accept-drift <name>', 'record this component\'s changed provenance in the lock (repeatable; "bom" for the BOM)', collect)
    .option('--frozen-lock', 'never write the lock; a component missing from it fails too (CI)');
}

export function lockOptions(flags: LockFlags): LockOptions | undefined {
  if (!flags.lock) {
    if (flags.acceptDrift?.length || flags.frozenLock) throw usageError('--accept-drift and --frozen-lock go with --lock FILE');
    return undefined;
  }
  const o: LockOptions = { file: flags.lock };
  if (flags.acceptDrift?.length) o.acceptDrift = flags.acceptDrift;
  if (flags.frozenLock) o.frozen = true;
  return o;
}
