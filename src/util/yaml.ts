import type { Document, DocumentOptions, LineCounter, ParseOptions, SchemaOptions } from 'yaml';
import { lazyRequire } from './lazy.js';

/** Loaded when there is YAML to read (see lazyRequire). */
const yaml = lazyRequire<typeof import('yaml')>('yaml');

/**
 * YAML from outside, read with the `yaml` library but bounded against what makes it slow or
 * crash on hostile text (each measured on yaml 2.9):
 * - every syntax error costs an Error with a stack trace, and a line of 256 KiB of `}` is
 *   256 Ki errors (13 s; minutes with prettyErrors, which copies the line into each): composing
 *   stops at the first syntax error, the only one anyone reports;
 * - its parser recurses on block collections nested on one line (`- - - - … x`): a stack
 *   overflow becomes a document error ("nests too deeply"), not a crash;
 * - its `uniqueKeys` check compares every key of a map with every other (40,000 keys: over a
 *   minute): callers pass `uniqueKeys: false` and call `duplicateKey`, one pass with a Set.
 * prettyErrors is never applied: callers name the line from their LineCounter.
 */
export type YamlOptions = ParseOptions & DocumentOptions & SchemaOptions;

/** Every document of a YAML stream (like yaml's parseAllDocuments, bounded as above). */
export function parseYamlDocuments(text: string, options: YamlOptions = {}): Document.Parsed[] {
  const { Composer, Parser } = yaml();
  const parser = new Parser(options.lineCounter?.addNewLine);
  const composer = new Composer({ ...options, prettyErrors: false });
  try {
    return Array.from(composer.compose(untilFirstError(parser.parse(text))));
  } catch (err) {
    if (err instanceof RangeError) return [tooDeep(options)];
    throw err;
  }
}

/** One document (like yaml's parseDocument: a second document is an error), bounded as above. */
export function parseYamlDocument(text: string, options: YamlOptions = {}): Document.Parsed {
  const { Composer, Parser, YAMLParseError } = yaml();
  const parser = new Parser(options.lineCounter?.addNewLine);
  const composer = new Composer({ ...options, prettyErrors: false });
  let doc: Document.Parsed | undefined;
  try {
    for (const d of composer.compose(untilFirstError(parser.parse(text)), true, text.length)) {
      if (!doc) doc = d;
      else {
        doc.errors.push(new YAMLParseError([d.range[0], d.range[1]], 'MULTIPLE_DOCS', 'more than one YAML document'));
        break;
      }
    }
  } catch (err) {
    if (err instanceof RangeError) return tooDeep(options);
    throw err;
  }
  // compose(…, forceDoc = true) always yields a document.
  return doc!;
}

function* untilFirstError<T extends { type: string }>(tokens: Iterable<T>): Generator<T> {
  for (const t of tokens) {
    yield t;
    if (t.type === 'error') return;
  }
}

function tooDeep(options: YamlOptions): Document.Parsed {
  const { Document: Doc, YAMLParseError } = yaml();
  const doc = new Doc(null, options) as unknown as Document.Parsed;
  doc.errors.push(new YAMLParseError([0, 0], 'UNEXPECTED_TOKEN', 'YAML nests too deeply to read (call stack exceeded)'));
  return doc;
}

/**
 * The first key that appears twice in one mapping (YAML would keep the last one silently),
 * with its offset; undefined when there is none. Scalar keys compare by their string form, as
 * they become keys of a JavaScript object. Iterative, one Set per mapping: linear.
 */
export function duplicateKey(doc: Document): { key: string; offset: number } | undefined {
  const { isMap, isPair, isScalar, isSeq } = yaml();
  const stack: unknown[] = [doc.contents];
  const seen = new Set<unknown>();
  while (stack.length) {
    const node = stack.pop();
    if (!node || typeof node !== 'object' || seen.has(node)) continue;
    seen.add(node);
    if (isMap(node)) {
      const keys = new Set<string>();
      for (const pair of node.items) {
        if (isScalar(pair.key)) {
          const k = String(pair.key.value);
          if (keys.has(k)) return { key: k, offset: pair.key.range?.[0] ?? 0 };
          keys.add(k);
        } else if (pair.key) stack.push(pair.key);
        stack.push(pair.value);
      }
    } else if (isSeq(node)) {
      for (const item of node.items) stack.push(isPair(item) ? item.value : item);
    }
  }
  return undefined;
}

/** 1-based line of an offset, from the LineCounter the text was parsed with. */
export function lineAt(lc: LineCounter, offset: number): number {
  return lc.linePos(offset).line;
}
