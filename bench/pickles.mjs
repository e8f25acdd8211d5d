// Pickle scanning benchmark: the labelled corpus test/corpus/pickles (made and labelled by
// scripts/pickle-corpus/generate.py: every sample loaded for real with a canary payload) run
// through the built models discoverer, exactly as `aibom build` finds and reads models. A sample
// counts as flagged when the default gate's pickle rule (pickle-risky-import) would fail on it:
// a pickle finding of severity high or critical on its component. Prints precision, recall and
// F1 per class and overall, and the false-alarm rate on the benign shapes.
// Targets: F1 ≥ 0.95 overall, no miss in any malicious class, < 3% false alarms on benign shapes.
// Peers (picklescan, fickling, ModelAudit, modelscan) are Python packages on PyPI only: neither
// npm nor Debian ships them, so they cannot be installed here and are not compared.
//
//   npm run bench -- pickles
//   AIBOM_PICKLE_CORPUS=/other/corpus npm run bench -- pickles   (same layout: labels.json + files)
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BenchError, REPO, table } from './lib.mjs';

export const description = 'labelled pickle corpus: precision, recall and F1 of the model scanner per class (the gate pickle rule)';

const CORPUS = process.env.AIBOM_PICKLE_CORPUS || join(REPO, 'test', 'corpus', 'pickles');
const TARGET_F1 = 0.95;
const TARGET_FALSE_ALARMS = 0.03;

async function discoverer() {
  const mod = join(REPO, 'dist', 'src', 'inventory', 'models', 'index.js');
  const inv = join(REPO, 'dist', 'src', 'inventory', 'index.js');
  if (!existsSync(mod)) throw new BenchError(`bench: ${mod} is missing; run "npm run build" first`);
  return { models: (await import(pathToFileURL(mod).href)).modelsDiscoverer, buildInventory: (await import(pathToFileURL(inv).href)).buildInventory };
}

/** Scan the corpus; returns one row per sample with `flagged` and the reasons. */
export async function scanCorpus(dir = CORPUS) {
  const labelsFile = join(dir, 'labels.json');
  if (!existsSync(labelsFile)) throw new BenchError(`bench: ${labelsFile} is missing (generate it with scripts/pickle-corpus/generate.py)`);
  const { samples } = JSON.parse(readFileSync(labelsFile, 'utf8'));
  const { models, buildInventory } = await discoverer();
  const inv = await buildInventory(dir, { config: {} }, [models]);
  const byFile = new Map();
  for (const f of inv.findings) {
    const file = f.component?.startsWith('model:') ? f.component.slice('model:'.length) : f.location?.file;
    if (!file) continue;
    const list = byFile.get(file) ?? [];
    list.push(f);
    byFile.set(file, list);
  }
  return samples.map((s) => {
    const fs = byFile.get(s.file) ?? [];
    const blocking = fs.filter((f) => /^pickle/.test(f.code) && (f.severity === 'high' || f.severity === 'critical'));
    return { ...s, flagged: blocking.length > 0, reasons: blocking.map((f) => `${f.severity} ${f.code}: ${f.message}`) };
  });
}

function score(rows) {
  const tp = rows.filter((r) => r.label === 'malicious' && r.flagged).length;
  const fn = rows.filter((r) => r.label === 'malicious' && !r.flagged).length;
  const fp = rows.filter((r) => r.label === 'benign' && r.flagged).length;
  const tn = rows.filter((r) => r.label === 'benign' && !r.flagged).length;
  const precision = tp + fp ? tp / (tp + fp) : 1;
  const recall = tp + fn ? tp / (tp + fn) : 1;
  const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
  return { tp, fn, fp, tn, precision, recall, f1, falseAlarms: fp + tn ? fp / (fp + tn) : 0 };
}

const f3 = (x) => x.toFixed(3);

export async function run() {
  const rows = await scanCorpus();
  const classes = [...new Set(rows.map((r) => r.class))];
  const out = [['class', 'samples', 'malicious', 'TP', 'FN', 'FP', 'TN', 'precision', 'recall', 'F1', 'false alarms']];
  const perClass = {};
  for (const c of classes) {
    const s = score(rows.filter((r) => r.class === c));
    perClass[c] = s;
    const n = s.tp + s.fn + s.fp + s.tn;
    const mal = s.tp + s.fn;
    out.push([c, n, mal, s.tp, s.fn, s.fp, s.tn, mal ? f3(s.precision) : '-', mal ? f3(s.recall) : '-', mal ? f3(s.f1) : '-', s.fp + s.tn ? `${(100 * s.falseAlarms).toFixed(1)}%` : '-']);
  }
  const all = score(rows);
  out.push(['overall', rows.length, all.tp + all.fn, all.tp, all.fn, all.fp, all.tn, f3(all.precision), f3(all.recall), f3(all.f1), `${(100 * all.falseAlarms).toFixed(1)}%`]);
  console.log(`pickles: ${rows.length} labelled samples from ${CORPUS}`);
  console.log(table(out));
  const misses = rows.filter((r) => r.label === 'malicious' && !r.flagged);
  const alarms = rows.filter((r) => r.label === 'benign' && r.flagged);
  for (const r of misses) console.log(`miss: ${r.file}`);
  for (const r of alarms) console.log(`false alarm: ${r.file}: ${r.reasons[0]}`);
  console.log(
    `targets: F1 ${f3(all.f1)} (≥ ${TARGET_F1}: ${all.f1 >= TARGET_F1 ? 'met' : 'NOT met'}); misses ${misses.length} (0: ${misses.length ? 'NOT met' : 'met'}); false alarms ${(100 * all.falseAlarms).toFixed(1)}% (< ${100 * TARGET_FALSE_ALARMS}%: ${all.falseAlarms < TARGET_FALSE_ALARMS ? 'met' : 'NOT met'})`,
  );
  console.log('peers: picklescan, fickling, ModelAudit and modelscan are PyPI-only (not on npm or Debian): not compared');
  return { name: 'pickles', samples: rows.length, overall: all, perClass };
}

export async function smoke() {
  const rows = await scanCorpus();
  const s = score(rows);
  if (s.fn > 0 || s.f1 < TARGET_F1 || s.falseAlarms >= TARGET_FALSE_ALARMS) {
    throw new Error(`pickles: ${s.fn} missed, F1 ${f3(s.f1)}, false alarms ${(100 * s.falseAlarms).toFixed(1)}% (targets: 0, ≥ ${TARGET_F1}, < ${100 * TARGET_FALSE_ALARMS}%)`);
  }
  return `pickles: ${rows.length} samples, F1 ${f3(s.f1)}, none missed`;
}
