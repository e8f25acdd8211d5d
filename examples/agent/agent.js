// The example agent's entry point: loads every plugin in plugins/ and lists its tool.
// Run it behind the start-up check, so no plugin code loads unless the signed AI-BOM vouches for it:
//   node --import aibom/register agent.js
import { readdir } from 'node:fs/promises';

const plugins = new URL('./plugins/', import.meta.url);
for (const entry of await readdir(plugins, { withFileTypes: true })) {
  if (!entry.isDirectory()) continue;
  const { tool } = await import(new URL(`${entry.name}/index.js`, plugins).href);
  console.log(`loaded plugin ${entry.name}: tool ${tool.name}`);
}
