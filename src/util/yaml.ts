import { createRequire } from 'node:module';
import type { Document, DocumentOptions, LineCounter, ParseOptions, SchemaOptions } from 'yaml';
import { lazy } from './lazy.js';

const require = createRequire(import.meta.url);

/** Loaded when there is YAML to read (see lazy). */
const yaml = lazy(() => require('yaml') as typeof import('yaml'));

/**
 * YAML from outside, read with the `yaml` library but bounded against what makes it slow or
 * crash on hostile text (each measured on yaml 2.9):
 * - every syntax error costs an Error with a stack trace, and a line of 256 KiB of `}` or `,`
 *   is 256 Ki errors (5 to 13 s; minutes with prettyErrors, which copies the line into each):
 *   composing stops at the first error, the only one anyone reports;
 * - its parser recurses on block collections nested on one line (`- - - - … x`) and its
 *   composer on flow collections: a stack overflow becomes a document error ("nests too
 *   deeply"), never a crash;
 * - its `uniqueKeys` check compares every key of a map with every other (40,000 keys: over a
 *   minute): callers pass `uniqueKeys: false` and call `duplicateKey`, one pass with a Set.
 * prettyErrors is never applied: callers name the line from their LineCounter.
 */
export type YamlOptions = ParseOptions & DocumentOptions & SchemaOptions;

/** A LineCounter to pass in `options`, to name lines in messages. */
export function newLineCounter(): LineCounter {
  return new (yaml().LineCounter)();
}

/** Every document of a YAML stream (like yaml's parseAllDocuments, bounded as above). */
export function parseYamlDocuments(text: string, options: YamlOptions = {}): Document.Parsed[] {
  const { Composer, Parser } = yaml();
  const parser = new Parser(options.lineCounter?.addNewLine);
  const composer = new Composer({ ...options, prettyErrors: false });
  stopAtFirstError(composer);
  try {
    return Array.from(composer.compose(untilFirstError(parser.parse(text)))).map(readableErrors);
  } catch (err) {
    return [errorDocument(err, composer, options)];
  }
}

/** One document (like yaml's parseDocument: a second document is an error), bounded as above. */
export function parseYamlDocument(text: string, options: YamlOptions = {}): Document.Parsed {
  const { Composer, Parser, YAMLParseError } = yaml();
  const parser = new Parser(options.lineCounter?.addNewLine);
  const composer = new Composer({ ...options, prettyErrors: false });
  stopAtFirstError(composer);
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
    return errorDocument(err, composer, options);
  }
  // compose(…, forceDoc = true) always yields a document.
  return readableErrors(doc!);
}

/** Thrown from the composer's error callback to stop composing at the first error. */
const STOP = Symbol('first YAML error');

/**
 * Errors inside flow collections come from the composer, one per bad token, with no CST error
 * token to stop at: its error callback (an instance field of yaml's Composer) is wrapped to
 * stop composing at the first one. Should a later yaml rename the field, nothing is wrapped
 * and every error is collected, as before: slower on hostile text, never wrong.
 */
function stopAtFirstError(composer: object): void {
  const c = composer as { onError?: (source: unknown, code: unknown, message: unknown, warning?: boolean) => void };
  const original = c.onError;
  if (typeof original !== 'function') return;
  c.onError = (source, code, message, warning) => {
    original(source, code, message, warning);
    if (!warning) throw STOP;
  };
}

/** The document to return when composing stopped: the first error, or "nests too deeply". */
function errorDocument(err: unknown, composer: object, options: YamlOptions): Document.Parsed {
  const { Document: Doc, YAMLParseError } = yaml();
  const doc = new Doc(null, options) as unknown as Document.Parsed;
  const first = (composer as { errors?: Document.Parsed['errors'] }).errors?.[0];
  if (err === STOP && first) doc.errors.push(first);
  else if (err === STOP || err instanceof RangeError) {
    doc.errors.push(new YAMLParseError([0, 0], 'UNEXPECTED_TOKEN', TOO_DEEP));
  } else throw err;
  return readableErrors(doc);
}

const TOO_DEEP = 'YAML nests too deeply to read (call stack exceeded)';

/** yaml reports a stack overflow it caught as "Maximum call stack size exceeded". */
function readableErrors(doc: Document.Parsed): Document.Parsed {
  for (const e of doc.errors) if (/call stack|stack overflow/i.test(e.message) && e.message !== TOO_DEEP) e.message = TOO_DEEP;
  return doc;
}

function* untilFirstError<T extends { type: string }>(tokens: Iterable<T>): Generator<T> {
  for (const t of tokens) {
    yield t;
    if (t.type === 'error') return;
  }
}

/** A key problem in a YAML document: a key given twice in one mapping, or (when refused) a key that is not a plain value. */
export interface YamlKeyProblem {
  /** The key (its string form); empty for a key that is not a plain value. */
  key: string;
  /** Offset of the second occurrence, or of the key that is not a plain value. */
  offset: number;
  /** Set when the problem is a mapping or list used as a key (only with `plainKeysOnly`). */
  notPlain?: true;
}

export interface DuplicateKeyOptions {
  /**
   * Refuse a mapping or list used as a key (the first one is the problem), as formats that only
   * write plain keys want (a pnpm lockfile; yaml would stringify such a key with a warning on
   * stderr). Default: such keys are searched for duplicates inside them, like any other node.
   */
  plainKeysOnly?: boolean;
}

/**
 * The first key that appears twice in one mapping (YAML would keep the last one silently),
 * with its offset; undefined when there is none. Scalar keys compare by their string form, as
 * they become keys of a JavaScript object. Iterative, one Set per mapping: linear. The one
 * duplicate-key check for every YAML input (configs, policies, front matter, lockfiles).
 */
export function duplicateKey(doc: Document, options: DuplicateKeyOptions = {}): YamlKeyProblem | undefined {
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
        } else if (pair.key !== null && pair.key !== undefined) {
          if (options.plainKeysOnly) return { key: '', offset: (pair.key as { range?: [number, number, number] }).range?.[0] ?? 0, notPlain: true };
          stack.push(pair.key);
        }
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
