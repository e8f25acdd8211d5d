/**
 * Worker threads run the start-up check only through `--import`, which Node applies to a worker
 * started from a file with the inherited execArgv. After the check, the hook makes
 * `worker_threads.Worker` keep it so: a worker with its own execArgv gets the hook added, and a
 * worker from code (`eval: true`, which Node starts without preloading anything) is refused,
 * since its plugin imports would run neither the check nor the load-time guard; aibom's own
 * hashing worker, code that loads Node's built-ins only, is the one exception.
 */
import { syncBuiltinESMExports } from 'node:module';
import workerThreads, { type WorkerOptions } from 'node:worker_threads';
import { WORKER_SOURCE as HASH_WORKER_SOURCE } from '../digest/hash-pool.js';
import { ModuleRefusedError } from './load-hook.js';

const GUARDED = Symbol.for('aibom.worker-guard');

export function guardWorkers(hookUrl: string): void {
  const Original = workerThreads.Worker;
  if ((Original as unknown as Record<symbol, boolean>)[GUARDED]) return;
  class Worker extends Original {
    static readonly [GUARDED] = true;
    constructor(filename: string | URL, options: WorkerOptions = {}) {
      // aibom's own hashing worker (digest/hash-pool.ts) loads Node's built-ins only.
      if (options.eval && filename !== HASH_WORKER_SOURCE) {
        throw new ModuleRefusedError(
          'a worker from code (eval: true)',
          'Node starts it without the start-up check and the load-time guard; start the worker from a file',
        );
      }
      super(filename, options.execArgv ? { ...options, execArgv: ['--import', hookUrl, ...options.execArgv] } : options);
    }
  }
  workerThreads.Worker = Worker;
  syncBuiltinESMExports();
}
