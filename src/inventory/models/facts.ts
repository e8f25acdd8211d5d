import type { Finding, Property, Severity } from '../types.js';
import { NS, prop } from '../types.js';
import type { CheckpointScan } from './checkpoint.js';
import type { GgufInfo } from './gguf.js';
import type { AdapterFacts, ChatTemplate, ModelConfigFacts, TokenizerFacts } from './hf-config.js';
import { type CardMetric, type ModelCard, normalizeLicense } from './model-card.js';
import type { OnnxInfo } from './onnx.js';
import type { PickleImport } from './pickle.js';
import { importSeverity } from './pickle-policy.js';
import type { SafetensorsInfo } from './safetensors.js';

/**
 * What the readers learned about one model (a folder or a single file), gathered before it
 * becomes a component. `add*` functions fold one reader's result in; component.ts turns the
 * facts into CycloneDX (modelCard, properties, pedigree, findings).
 */

export type Serialization =
  | 'safetensors'
  | 'gguf'
  | 'onnx'
  | 'pickle'
  | 'ggml'
  | 'hdf5'
  | 'keras'
  | 'flax-msgpack'
  | 'tflite'
  | 'coreml'
  | 'tensorflow-savedmodel'
  | 'unknown';

/** Which serialization describes a model best when a folder holds several (loaders prefer safetensors). */
export const SERIALIZATION_PREFERENCE: Serialization[] = [
  'safetensors',
  'gguf',
  'onnx',
  'pickle',
  'ggml',
  'hdf5',
  'keras',
  'flax-msgpack',
  'tflite',
  'coreml',
  'tensorflow-savedmodel',
  'unknown',
];

export const HP = 'cdx:ai-ml:model:hyperparameter:';
export const TOK = 'cdx:ai-ml:tokenizer:hyperparameter:';

export interface Ancestor {
  name: string;
  namespace?: string;
  /** A Hugging Face id (purl-able). */
  hf: boolean;
}

export interface ModelFacts {
  ref: string;
  serializations: Set<Serialization>;
  /** Component properties (aibom:*). */
  props: Property[];
  /** modelCard.properties (CycloneDX ai-ml taxonomy names first, then aibom:*). */
  cardProps: Map<string, string>;
  findings: Finding[];
  parameterCount?: bigint;
  tensorCount: number;
  dtypes: Map<string, number>;
  architectureFamily?: string;
  modelArchitecture?: string;
  task?: string;
  name?: string;
  licenses: string[];
  licenseLink?: string;
  ancestors: Ancestor[];
  baseModelRelation?: string;
  datasets: string[];
  metrics: CardMetric[];
  inputs: string[];
  outputs: string[];
  tags: string[];
  chatTemplates: ChatTemplate[];
  pickleImports: Map<string, PickleImport>;
  pickleFiles: string[];
  modelName?: string;
}

export function newFacts(ref: string): ModelFacts {
  return {
    ref,
    serializations: new Set(),
    props: [],
    cardProps: new Map(),
    findings: [],
    tensorCount: 0,
    dtypes: new Map(),
    licenses: [],
    ancestors: [],
    datasets: [],
    metrics: [],
    inputs: [],
    outputs: [],
    tags: [],
    chatTemplates: [],
    pickleImports: new Map(),
    pickleFiles: [],
  };
}

export function finding(facts: ModelFacts, code: string, severity: Severity, message: string, file: string): void {
  facts.findings.push({ code, severity, message, component: facts.ref, location: { file } });
}

function addParams(facts: ModelFacts, n: bigint): void {
  facts.parameterCount = (facts.parameterCount ?? 0n) + n;
}

function setIfAbsent(map: Map<string, string>, key: string, value: string | number | bigint | undefined): void {
  if (value === undefined || map.has(key)) return;
  map.set(key, String(value));
}

export function addSafetensors(facts: ModelFacts, info: SafetensorsInfo): void {
  facts.serializations.add('safetensors');
  addParams(facts, info.parameterCount);
  facts.tensorCount += info.tensorCount;
  for (const [d, n] of info.dtypes) facts.dtypes.set(d, (facts.dtypes.get(d) ?? 0) + n);
  let kept = 0;
  for (const [k, v] of Object.entries(info.metadata)) {
    if (++kept > 32) break;
    const name = `${NS}safetensors:metadata:${k.slice(0, 64)}`;
    if (!facts.props.some((p) => p.name === name)) facts.props.push(prop(name, v.slice(0, 1024)));
  }
}

export function addGguf(facts: ModelFacts, info: GgufInfo): void {
  facts.serializations.add('gguf');
  addParams(facts, info.parameterCount);
  facts.tensorCount += info.tensorCount;
  const md = info.metadata;
  const str = (k: string) => {
    const v = md.get(k);
    return typeof v === 'string' && v.length <= 1024 ? v : undefined;
  };
  const num = (k: string) => {
    const v = md.get(k);
    return typeof v === 'number' || typeof v === 'bigint' ? v : undefined;
  };
  const arch = str('general.architecture');
  if (arch && !facts.architectureFamily) facts.architectureFamily = arch;
  const name = str('general.name');
  if (name && !facts.name) facts.name = name;
  const license = str('general.license');
  if (license && !facts.licenses.length) facts.licenses.push(normalizeLicense(license));
  facts.props.push(prop(`${NS}gguf:version`, info.version));
  if (info.fileType) {
    facts.props.push(prop(`${NS}gguf:file-type`, info.fileType));
    setIfAbsent(facts.cardProps, `${HP}quantization`, info.fileType);
  }
  const types = [...info.tensorTypes].sort((a, b) => b[1] - a[1]).map(([t, n]) => `${t}:${n}`);
  if (types.length) facts.props.push(prop(`${NS}gguf:tensor-types`, types.slice(0, 32).join(',')));
  if (arch) {
    setIfAbsent(facts.cardProps, `${HP}context_length`, num(`${arch}.context_length`));
    setIfAbsent(facts.cardProps, `${HP}hidden_size`, num(`${arch}.embedding_length`));
    setIfAbsent(facts.cardProps, `${HP}num_hidden_layers`, num(`${arch}.block_count`));
    setIfAbsent(facts.cardProps, `${HP}num_attention_heads`, num(`${arch}.attention.head_count`));
    setIfAbsent(facts.cardProps, `${HP}num_key_value_heads`, num(`${arch}.attention.head_count_kv`));
    setIfAbsent(facts.cardProps, `${HP}intermediate_size`, num(`${arch}.feed_forward_length`));
    setIfAbsent(facts.cardProps, `${HP}vocab_size`, num(`${arch}.vocab_size`) ?? num('tokenizer.ggml.tokens#length'));
  }
  const tokModel = str('tokenizer.ggml.model');
  if (tokModel) setIfAbsent(facts.cardProps, `${TOK}tokenizer_class`, tokModel);
  const tmpl = str('tokenizer.chat_template');
  if (tmpl !== undefined && !facts.chatTemplates.some((t) => !t.name)) facts.chatTemplates.push({ template: tmpl });
  else if (info.oversized.has('tokenizer.chat_template')) facts.props.push(prop(`${NS}model:chat-template-bytes`, info.oversized.get('tokenizer.chat_template')!));
  // GGUF records what a converted/quantized model was made from.
  const baseCount = num('general.base_model.count');
  for (let i = 0; baseCount !== undefined && i < Math.min(Number(baseCount), 16); i++) {
    const repo = str(`general.base_model.${i}.repo_url`);
    const bname = str(`general.base_model.${i}.name`);
    const org = str(`general.base_model.${i}.organization`);
    const fromUrl = repo ? /\/([A-Za-z0-9][\w.-]*)\/([A-Za-z0-9][\w.-]*)\/?$/.exec(repo) : null;
    if (fromUrl) facts.ancestors.push({ namespace: fromUrl[1]!, name: fromUrl[2]!, hf: true });
    else if (bname) facts.ancestors.push(org ? { namespace: org, name: bname, hf: false } : { name: bname, hf: false });
  }
  const source = str('general.source.huggingface.repository');
  if (source && /^[A-Za-z0-9][\w.-]*\/[A-Za-z0-9][\w.-]*$/.test(source)) {
    const [ns, n] = source.split('/') as [string, string];
    if (!facts.ancestors.some((a) => a.namespace === ns && a.name === n)) facts.ancestors.push({ namespace: ns, name: n, hf: true });
  }
  const sizeLabel = str('general.size_label');
  if (sizeLabel) facts.props.push(prop(`${NS}gguf:size-label`, sizeLabel));
}

export function addOnnx(facts: ModelFacts, info: OnnxInfo, file: string, escapes: (location: string) => boolean): void {
  facts.serializations.add('onnx');
  addParams(facts, info.parameterCount);
  facts.tensorCount += info.initializerCount;
  if (info.irVersion !== undefined) facts.props.push(prop(`${NS}onnx:ir-version`, info.irVersion));
  if (info.opsets.length) {
    facts.props.push(prop(`${NS}onnx:opsets`, info.opsets.map((o) => `${o.domain || 'ai.onnx'}:${o.version}`).join(',')));
  }
  const producer = [info.producerName, info.producerVersion].filter(Boolean).join(' ');
  if (producer) facts.props.push(prop(`${NS}onnx:producer`, producer));
  if (info.graphName && !facts.modelArchitecture) facts.props.push(prop(`${NS}onnx:graph`, info.graphName.slice(0, 256)));
  for (const i of info.inputs) if (facts.inputs.length < 64) facts.inputs.push(i.type ? `${i.name}: ${i.type}` : i.name);
  for (const o of info.outputs) if (facts.outputs.length < 64) facts.outputs.push(o.type ? `${o.name}: ${o.type}` : o.name);
  if (info.customDomains.length) {
    facts.props.push(prop(`${NS}onnx:custom-domains`, info.customDomains.join(',')));
    finding(
      facts,
      'onnx-custom-operators',
      'low',
      `ONNX model uses operators from ${info.customDomains.join(', ')}: running it needs a native custom-operator library`,
      file,
    );
  }
  for (const loc of info.externalData) {
    facts.props.push(prop(`${NS}onnx:external-data`, loc));
    if (escapes(loc)) {
      finding(
        facts,
        'onnx-external-data-outside',
        'high',
        `ONNX model loads tensor data from ${JSON.stringify(loc)}, outside the model's folder (path traversal)`,
        file,
      );
    }
  }
  let n = 0;
  for (const [k, v] of Object.entries(info.metadata)) {
    if (++n > 32) break;
    facts.props.push(prop(`${NS}onnx:metadata:${k.slice(0, 64)}`, v.slice(0, 1024)));
  }
}

/** Fold a pickle scan in: imports, the pickle-model risk, unsafe and unknown imports, anomalies, what was not scanned. */
export function addCheckpoint(facts: ModelFacts, scan: CheckpointScan, file: string): void {
  facts.serializations.add('pickle');
  facts.pickleFiles.push(file);
  const s = scan.scan;
  for (const [k, imp] of s.imports) {
    const prev = facts.pickleImports.get(k);
    if (prev) {
      prev.calls += imp.calls;
      prev.directCalls += imp.directCalls;
    } else facts.pickleImports.set(k, { ...imp });
  }
  finding(
    facts,
    'pickle-model',
    'medium',
    'pickle-serialized model file: loading it runs whatever code the pickle names (a clean scan is no proof: deny-lists are bypassable); prefer safetensors',
    file,
  );
  const graded = [...s.imports.values()]
    .map((imp) => ({ imp, severity: importSeverity(imp) }))
    .filter((x): x is { imp: PickleImport; severity: 'medium' | 'high' | 'critical' } => x.severity !== undefined);
  const rank = { critical: 0, high: 1, medium: 2 } as const;
  graded.sort((a, b) => rank[a.severity] - rank[b.severity]);
  for (const { imp, severity } of graded.slice(0, 20)) {
    const calls = imp.calls ? ` and calls it${imp.calls > 1 ? ` ${imp.calls} times` : ''}` : '';
    if (severity === 'medium') {
      finding(
        facts,
        'pickle-unknown-import',
        'medium',
        `pickle imports ${imp.module}.${imp.name}${calls} when loaded (not on the vetted lists; ${imp.calls ? 'only instantiated the way plain objects are rebuilt' : 'not called'}; check it is a class you trust)`,
        file,
      );
    } else {
      finding(
        facts,
        'pickle-unsafe-import',
        severity,
        `pickle imports ${imp.module}.${imp.name}${calls} when loaded (${severity === 'critical' ? 'it can run code, reach the system or load more code' : 'an unvetted callable called with arguments the pickle chooses: it can do anything'})`,
        file,
      );
    }
  }
  if (graded.length > 20) {
    const worst = graded.slice(20).some((x) => x.severity !== 'medium') ? 'high' : 'medium';
    finding(facts, worst === 'high' ? 'pickle-unsafe-import' : 'pickle-unknown-import', worst, `pickle has ${graded.length - 20} more unvetted imports`, file);
  }
  if (s.dynamicImports) {
    finding(facts, 'pickle-dynamic-import', 'high', `pickle imports ${s.dynamicImports} callable(s) whose names are computed at load time`, file);
  }
  if (s.extensionImports) {
    finding(facts, 'pickle-extension-import', 'high', 'pickle imports callables through the copyreg extension registry (EXT opcodes); they cannot be named from the file', file);
  }
  if (s.unnamedCalls) {
    finding(facts, 'pickle-unnamed-call', 'high', `pickle calls ${s.unnamedCalls} value(s) that are not named imports (callables computed at load time)`, file);
  }
  for (const a of s.anomalies) finding(facts, 'pickle-anomaly', 'medium', `pickle anomaly: ${a}`, file);
  for (const p of scan.problems) finding(facts, p.code, 'high', p.message, file);
  if (scan.incomplete.length) {
    finding(
      facts,
      'pickle-unscanned',
      'high',
      `pickle could not be fully scanned (${scan.incomplete.slice(0, 3).join('; ')}); what was not scanned may import anything`,
      file,
    );
  }
  if (scan.torchScript) {
    finding(facts, 'pickle-torchscript', 'medium', 'TorchScript archive: torch.jit.load runs the TorchScript code it ships (code/)', file);
  }
  // How the pickles are packed, outside in: raw, zip, gzip > tar, torch-legacy ...
  const outer = scan.layers.filter((l) => l !== 'pickle' && l !== 'torchscript');
  const layers = scan.torchLegacy ? ['torch-legacy'] : outer.length ? outer : ['raw'];
  const notes = [scan.torchScript ? 'TorchScript' : '', scan.joblibArrays ? `joblib, ${scan.joblibArrays} arrays` : ''].filter(Boolean);
  facts.props.push(prop(`${NS}pickle:container`, `${file}: ${layers.join(' > ')}${notes.length ? ` (${notes.join('; ')})` : ''}`));
}

/** A file named like a pickle model whose bytes are no pickle: a low finding, not a pickle risk. */
export function addNotAPickle(facts: ModelFacts, scan: CheckpointScan, file: string): void {
  finding(facts, 'pickle-not-a-pickle', 'low', `${file} is named like a pickle model but is not a pickle: ${scan.notPickle ?? 'no pickle in it'}`, file);
}

export function addModelConfig(facts: ModelFacts, c: ModelConfigFacts): void {
  if (c.modelType) facts.architectureFamily = c.modelType;
  if (c.architectures.length) facts.modelArchitecture = c.architectures.join(', ');
  for (const [k, v] of c.hyperparameters) facts.cardProps.set(`${HP}${k}`, v);
  if (c.quantization) facts.cardProps.set(`${HP}quantization`, c.quantization);
  if (c.torchDtype) facts.props.push(prop(`${NS}model:torch-dtype`, c.torchDtype));
  if (c.transformersVersion) facts.props.push(prop(`${NS}model:transformers-version`, c.transformersVersion));
  if (c.nameOrPath) facts.props.push(prop(`${NS}model:name-or-path`, c.nameOrPath));
}

export function addGenerationConfig(facts: ModelFacts, g: Map<string, string>): void {
  for (const [k, v] of g) setIfAbsent(facts.cardProps, `${HP}${k}`, v);
}

export function addTokenizer(facts: ModelFacts, t: TokenizerFacts): void {
  for (const [k, v] of t.hyperparameters) facts.cardProps.set(`${TOK}${k}`, v);
  const cls = t.hyperparameters.get('tokenizer_class');
  if (cls) setIfAbsent(facts.cardProps, `${HP}tokenizer_class`, cls);
  for (const tmpl of t.chatTemplates) {
    if (!facts.chatTemplates.some((x) => x.name === tmpl.name)) facts.chatTemplates.push(tmpl);
  }
}

export function addAdapter(facts: ModelFacts, a: AdapterFacts): void {
  if (a.peftType) {
    facts.props.push(prop(`${NS}model:adapter`, a.peftType));
    facts.cardProps.set('cdx:ai-ml:model:parameter:tune_methods', a.peftType.toLowerCase());
  }
  if (a.rank) facts.props.push(prop(`${NS}model:adapter-rank`, a.rank));
  if (a.baseModel) addAncestor(facts, a.baseModel);
  facts.baseModelRelation ??= 'adapter';
}

function addAncestor(facts: ModelFacts, id: string): void {
  const hf = /^(?:[A-Za-z0-9][\w.-]*\/)?[A-Za-z0-9][\w.-]*$/.test(id);
  if (!hf) return;
  const [ns, name] = id.includes('/') ? (id.split('/') as [string, string]) : [undefined, id];
  if (facts.ancestors.some((a) => a.name === name && a.namespace === ns)) return;
  facts.ancestors.push(ns ? { namespace: ns, name, hf: true } : { name, hf: true });
}

export function addCard(facts: ModelFacts, card: ModelCard): void {
  if (card.licenses.length) facts.licenses = card.licenses;
  if (card.licenseLink) facts.licenseLink = card.licenseLink;
  for (const b of card.baseModels) addAncestor(facts, b);
  if (card.baseModelRelation) facts.baseModelRelation = card.baseModelRelation;
  facts.datasets = card.datasets;
  if (card.pipelineTag) facts.task = card.pipelineTag;
  if (card.languages.length) facts.cardProps.set('cdx:ai-ml:model:languages', card.languages.join(','));
  facts.tags = card.tags;
  if (card.libraryName) facts.props.push(prop(`${NS}model:library`, card.libraryName));
  facts.metrics = card.metrics;
  if (card.modelName) facts.modelName = card.modelName;
}
