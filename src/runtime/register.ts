/**
 * `node --import aibom/register agent.js`: verify the agent's plugins before its first line
 * runs. Configured by aibom.runtime.json|yaml in the working directory, AIBOM_CONFIG, or
 * AIBOM_* environment variables (src/runtime/config.ts). When the BOM or any plugin is
 * refused, the report goes to stderr and the process exits with 1 (2 for a configuration
 * error) without ever running the agent. Silent on success unless AIBOM_VERBOSE=1.
 * Worker threads inherit --import; the check runs once, in the main thread.
 */
import { isMainThread } from 'node:worker_threads';
import { errorMessage, exitCodeFor } from '../errors.js';
import { loadRuntimeConfig } from './config.js';
import { formatReport } from './report.js';
import { verifyPlugins } from './verify-plugins.js';

async function check(): Promise<void> {
  let code: number;
  try {
    const { options } = await loadRuntimeConfig();
    const result = await verifyPlugins(options);
    if (result.ok) {
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
  // Never let the agent start: exit here, before the entry module is evaluated.
  process.exit(code);
}

if (isMainThread) await check();
