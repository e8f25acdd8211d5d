/**
 * `node --import aibom/register agent.js`: verify the agent's plugins before its first line
 * runs. Configured by aibom.runtime.json|yaml in the working directory, AIBOM_CONFIG, or
 * AIBOM_* environment variables (src/runtime/config.ts). When the BOM or any plugin is
 * refused, the report goes to stderr and the process exits with 1 (2 for a configuration
 * error) without ever running the agent. Silent on success unless AIBOM_VERBOSE=1.
 * After the check, every module loaded from a plugin folder is checked again on the bytes Node
 * is about to evaluate (load-hook.ts): a file swapped after the check, written through a hard
 * link, or loaded lazily, throws before it runs. Worker threads inherit --import and have
 * their own module loader: each runs the check and installs the hooks too (a failure in a
 * worker stops the worker before its code runs).
 */
import { resolve } from 'node:path';
import { isMainThread, setEnvironmentData } from 'node:worker_threads';
import { errorMessage, exitCodeFor } from '../errors.js';
import { AGENT_ROOT_KEY, loadRuntimeConfig } from './config.js';
import { installLoadHook } from './load-hook.js';
import { loadPinsOf } from './load-pins.js';
import { guardWorkers } from './worker-guard.js';
import { formatReport } from './report.js';
import { verifyPlugins } from './verify-plugins.js';

async function check(): Promise<void> {
  let code: number;
  try {
    const { options } = await loadRuntimeConfig();
    // Workers started later check this same root (config.ts), whatever their own script is.
    if (isMainThread) setEnvironmentData(AGENT_ROOT_KEY, resolve(options.root ?? '.'));
    const result = await verifyPlugins(options);
    if (result.ok) {
      installLoadHook(loadPinsOf(result)!);
      guardWorkers(import.meta.url);
      if (/^(1|true|yes|on)$/i.test(process.env.AIBOM_VERBOSE ?? '')) process.stderr.write(formatReport(result));
      return;
    }
    process.stderr.write(formatReport(result));
    process.stderr.write('aibom: start-up check failed: the agent was not started\n');
    code = 1;
  } catch (err) {
    process.stderr.write(`aibom: start-up check failed: ${errorMessage(err)}\n`);
    code = exitCodeFor(err);
  }
  if (!isMainThread) throw new Error(`aibom: start-up check failed in a worker thread (exit ${code}): the worker was not started`);
  // Never let the agent start: exit here, before the entry module is evaluated.
  process.exit(code);
}

await check();
