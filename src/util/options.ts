/**
 * Options objects handed to the library are checked like files: a key the function does not
 * read is an error with "did you mean", never ignored (a misspelt `sourceRepositry` would
 * otherwise constrain nothing and let a release from another repository pass).
 */
import { AibomError } from '../errors.js';
import { didYouMean } from './did-you-mean.js';

export function assertKnownOptions(fn: string, options: unknown, known: readonly string[], nested: Readonly<Record<string, readonly string[]>> = {}): void {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) throw new AibomError('USAGE', `${fn}: options must be an object`);
  for (const [k, v] of Object.entries(options)) {
    if (!known.includes(k)) {
      const hint = didYouMean(k, known);
      throw new AibomError('USAGE', `${fn}: unknown option "${k}"${hint ? ` (did you mean "${hint}"?)` : ''}`);
    }
    const inner = nested[k];
    if (inner && v !== undefined) assertKnownOptions(`${fn}: ${k}`, v, inner);
  }
}
