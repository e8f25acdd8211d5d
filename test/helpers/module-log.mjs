// Preloaded with `--import` (through NODE_OPTIONS) by tests that check which modules a
// command loads: every module URL resolved, by import or require, is written at exit to the
// file named by AIBOM_MODULE_LOG.
import { writeFileSync } from 'node:fs';
import { registerHooks } from 'node:module';

const seen = new Set();
registerHooks({
  resolve(specifier, context, nextResolve) {
    const r = nextResolve(specifier, context);
    seen.add(r.url);
    return r;
  },
});
process.on('exit', () => {
  if (process.env.AIBOM_MODULE_LOG) writeFileSync(process.env.AIBOM_MODULE_LOG, [...seen].join('\n'));
});
