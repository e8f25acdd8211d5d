import { isAibomError } from '../../errors.js';
import { readTextBounded } from '../../util/fs.js';
import { isObject, parseJsonText } from '../../util/json.js';
import { FormatError } from './reader.js';

/**
 * The JSON files of a Hugging Face model folder: `config.json` (architecture and
 * hyperparameters), `generation_config.json` (sampling defaults), `tokenizer_config.json`
 * (tokenizer class, special tokens, chat template; newer transformers also write the
 * template to `chat_template.jinja` / `chat_template.json`) and PEFT's `adapter_config.json`.
 * Values are mapped to CycloneDX ai-ml taxonomy names (cdx:ai-ml:model:hyperparameter:*,
 * cdx:ai-ml:tokenizer:hyperparameter:*); only scalars are kept.
 */

const MAX_CONFIG_BYTES = 16 * 1024 * 1024;
/** tokenizer_config.json carries the added-token table: large vocabularies make it big. */
const MAX_TOKENIZER_CONFIG_BYTES = 64 * 1024 * 1024;
const MAX_TEMPLATE_BYTES = 1024 * 1024;

export async function readJsonFile(abs: string, display: string, maxBytes = MAX_CONFIG_BYTES): Promise<Record<string, unknown>> {
  let doc: unknown;
  try {
    doc = parseJsonText(await readTextBounded(abs, maxBytes, display), display, 64);
  } catch (err) {
    throw new FormatError(isAibomError(err) ? err.message : String(err));
  }
  if (!isObject(doc)) throw new FormatError('not a JSON object');
  return doc;
}

/** config.json keys (and their aliases in older architectures) → taxonomy hyperparameter name. */
const HYPERPARAMETERS: Array<[string, string[]]> = [
  ['hidden_size', ['hidden_size', 'd_model', 'n_embd', 'dim']],
  ['num_hidden_layers', ['num_hidden_layers', 'n_layer', 'num_layers', 'n_layers']],
  ['num_attention_heads', ['num_attention_heads', 'n_head', 'n_heads']],
  ['num_key_value_heads', ['num_key_value_heads', 'n_kv_heads', 'multi_query_group_num']],
  ['intermediate_size', ['intermediate_size', 'n_inner', 'ffn_dim', 'd_ff']],
  ['vocab_size', ['vocab_size', 'padded_vocab_size']],
  ['max_position_embeddings', ['max_position_embeddings', 'n_positions', 'n_ctx', 'max_seq_len', 'seq_length', 'max_sequence_length']],
  ['hidden_act', ['hidden_act', 'activation_function', 'hidden_activation']],
  ['layer_norm_epsilon', ['layer_norm_epsilon', 'layer_norm_eps', 'rms_norm_eps']],
  ['activation_dropout', ['activation_dropout']],
];

export interface ModelConfigFacts {
  architectures: string[];
  modelType?: string;
  /** Taxonomy hyperparameter name → value. */
  hyperparameters: Map<string, string>;
  torchDtype?: string;
  transformersVersion?: string;
  /** `_name_or_path`: where the saving code loaded the model from (a hint, not an identity). */
  nameOrPath?: string;
  /** quantization_config, summarized (e.g. `gptq 4-bit`, `bitsandbytes 4-bit nf4`). */
  quantization?: string;
  /** auto_map entries: classes loaded from Python files shipped with the model (trust_remote_code). */
  autoMap: string[];
}

function scalar(v: unknown): string | undefined {
  if (typeof v === 'string') return v.length <= 256 ? v : undefined;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (typeof v === 'boolean') return String(v);
  return undefined;
}

export function modelConfigFacts(doc: Record<string, unknown>): ModelConfigFacts {
  const facts: ModelConfigFacts = { architectures: [], hyperparameters: new Map(), autoMap: [] };
  if (Array.isArray(doc.architectures)) {
    facts.architectures = doc.architectures.filter((a): a is string => typeof a === 'string' && a.length <= 256).slice(0, 16);
  }
  // Multimodal configs keep the language model's numbers under text_config / llm_config.
  const nested = [doc.text_config, doc.llm_config, doc.language_config].filter(isObject);
  const lookup = (keys: string[]): string | undefined => {
    for (const src of [doc, ...nested]) {
      for (const k of keys) {
        const v = scalar(src[k]);
        if (v !== undefined) return v;
      }
    }
    return undefined;
  };
  const modelType = scalar(doc.model_type);
  if (modelType) facts.modelType = modelType;
  for (const [name, keys] of HYPERPARAMETERS) {
    const v = lookup(keys);
    if (v !== undefined) facts.hyperparameters.set(name, v);
  }
  const ctx = facts.hyperparameters.get('max_position_embeddings');
  if (ctx !== undefined) facts.hyperparameters.set('context_length', ctx);
  const dtype = scalar(doc.torch_dtype) ?? scalar(doc.dtype);
  if (dtype) facts.torchDtype = dtype;
  const tv = scalar(doc.transformers_version);
  if (tv) facts.transformersVersion = tv;
  const nop = scalar(doc._name_or_path);
  if (nop) facts.nameOrPath = nop;
  if (isObject(doc.quantization_config)) {
    const q = doc.quantization_config;
    const method = scalar(q.quant_method) ?? (q.load_in_4bit === true || q.load_in_8bit === true ? 'bitsandbytes' : undefined);
    const bits = scalar(q.bits) ?? (q.load_in_4bit === true ? '4' : q.load_in_8bit === true ? '8' : undefined);
    const type = scalar(q.bnb_4bit_quant_type);
    const parts = [method, bits ? `${bits}-bit` : undefined, type].filter(Boolean);
    if (parts.length) facts.quantization = parts.join(' ');
  }
  if (isObject(doc.auto_map)) {
    for (const [k, v] of Object.entries(doc.auto_map)) {
      const targets = Array.isArray(v) ? v : [v];
      for (const t of targets) if (typeof t === 'string' && facts.autoMap.length < 32) facts.autoMap.push(`${k}=${t}`);
    }
  }
  return facts;
}

/** generation_config.json keys recorded as generation hyperparameters. */
const GENERATION_KEYS = ['temperature', 'top_p', 'top_k', 'max_new_tokens', 'max_length', 'repetition_penalty', 'do_sample'];

export function generationConfigFacts(doc: Record<string, unknown>): Map<string, string> {
  const out = new Map<string, string>();
  for (const k of GENERATION_KEYS) {
    const v = scalar(doc[k]);
    if (v !== undefined) out.set(k, v);
  }
  return out;
}

export interface ChatTemplate {
  /** Named templates (tool_use, rag...) have a name; the default one has none. */
  name?: string;
  template: string;
}

export interface TokenizerFacts {
  /** Taxonomy tokenizer hyperparameter name → value. */
  hyperparameters: Map<string, string>;
  chatTemplates: ChatTemplate[];
}

function tokenText(v: unknown): string | undefined {
  if (typeof v === 'string') return v.length <= 256 ? v : undefined;
  // AddedToken objects: {"content": "<s>", ...}
  if (isObject(v) && typeof v.content === 'string' && v.content.length <= 256) return v.content;
  return undefined;
}

export function tokenizerConfigFacts(doc: Record<string, unknown>): TokenizerFacts {
  const facts: TokenizerFacts = { hyperparameters: new Map(), chatTemplates: [] };
  for (const k of ['bos_token', 'eos_token', 'pad_token', 'unk_token']) {
    const v = tokenText(doc[k]);
    if (v !== undefined) facts.hyperparameters.set(k, v);
  }
  for (const k of ['tokenizer_class', 'padding_side', 'errors']) {
    const v = scalar(doc[k]);
    if (v !== undefined) facts.hyperparameters.set(k, v);
  }
  const maxLen = doc.model_max_length;
  // transformers writes a huge sentinel (1e30) when there is no limit.
  if (typeof maxLen === 'number' && Number.isSafeInteger(maxLen) && maxLen < 1e9) facts.hyperparameters.set('model_max_length', String(maxLen));
  facts.chatTemplates = chatTemplatesOf(doc.chat_template);
  return facts;
}

/** chat_template is a string, or a list of {name, template} (the one named "default" is the default). */
export function chatTemplatesOf(v: unknown): ChatTemplate[] {
  if (typeof v === 'string') return v.length <= MAX_TEMPLATE_BYTES ? [{ template: v }] : [];
  if (!Array.isArray(v)) return [];
  const out: ChatTemplate[] = [];
  for (const t of v.slice(0, 16)) {
    if (!isObject(t) || typeof t.template !== 'string' || t.template.length > MAX_TEMPLATE_BYTES) continue;
    if (typeof t.name === 'string' && t.name !== 'default') out.push({ name: t.name.slice(0, 64), template: t.template });
    else out.push({ template: t.template });
  }
  return out;
}

export async function readTokenizerConfig(abs: string, display: string): Promise<TokenizerFacts> {
  return tokenizerConfigFacts(await readJsonFile(abs, display, MAX_TOKENIZER_CONFIG_BYTES));
}

/** chat_template.jinja (the template as plain text). */
export async function readChatTemplateFile(abs: string, display: string): Promise<string> {
  try {
    return await readTextBounded(abs, MAX_TEMPLATE_BYTES, display);
  } catch (err) {
    throw new FormatError(isAibomError(err) ? err.message : String(err));
  }
}

export interface AdapterFacts {
  peftType?: string;
  baseModel?: string;
  taskType?: string;
  rank?: string;
}

/** PEFT adapter_config.json: the adapter method and the model it adapts. */
export function adapterConfigFacts(doc: Record<string, unknown>): AdapterFacts {
  const out: AdapterFacts = {};
  const t = scalar(doc.peft_type);
  if (t) out.peftType = t;
  const b = scalar(doc.base_model_name_or_path);
  if (b) out.baseModel = b;
  const task = scalar(doc.task_type);
  if (task) out.taskType = task;
  const r = scalar(doc.r);
  if (r) out.rank = r;
  return out;
}

/** Does a config.json look like a Hugging Face model config (and not some application's config)? */
export function looksLikeModelConfig(doc: Record<string, unknown>): boolean {
  return (
    Array.isArray(doc.architectures) ||
    typeof doc.model_type === 'string' ||
    typeof doc._name_or_path === 'string' ||
    typeof doc.transformers_version === 'string' ||
    typeof doc._class_name === 'string' ||
    typeof doc._diffusers_version === 'string'
  );
}
