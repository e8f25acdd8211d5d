import { AibomError } from '../src/errors.js';
/**
 * Shell-expanded lists after a plural flag. Flags take one value each and repeat
 * (`--ignore-paths a --ignore-paths b`), so a flag never swallows the target path after it. But
 * users write `--artifacts dist/*.tgz` unquoted, and the shell hands aibom
 * `--artifacts dist/a.tgz dist/b.tgz`: the words that follow a plural flag's value belong to
 * that flag, except the command's own targets, which are then the last words.
 */

export interface ExpandedList {
  /** The words the shell expanded that belong to the flag, in order. */
  extra: string[];
  /** The positional words that are the command's own arguments. */
  positionals: string[];
}

/**
 * `argv`: the words after the command name; `flag`: e.g. `--artifacts`; `positionals`: what the
 * parser took as positional words; `targets`: how many positional words the command needs at
 * least (they are taken back from the end of an expanded list when nothing else is left);
 * `isTarget`: a word that can only be the command's target (a folder, say), never an item.
 */
export function claimExpanded(
  argv: readonly string[],
  flag: string,
  positionals: readonly string[],
  targets: number,
  isTarget: (word: string) => boolean = () => false,
): ExpandedList {
  const following: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const w = argv[i]!;
    if (w === '--') break;
    let j: number;
    if (w === flag) j = i + 2;
    else if (w.startsWith(`${flag}=`)) j = i + 1;
    else continue;
    while (j < argv.length && !argv[j]!.startsWith('-') && !isTarget(argv[j]!)) following.push(argv[j++]!);
    i = j - 1;
  }
  // Take the following words out of the positionals, in order.
  const rest = [...positionals];
  const extra: string[] = [];
  for (const w of following) {
    const k = rest.indexOf(w);
    if (k >= 0) {
      rest.splice(k, 1);
      extra.push(w);
    }
  }
  // The command's targets come back from the end of the list.
  while (rest.length < targets && extra.length > 0) rest.push(extra.pop()!);
  return { extra, positionals: rest };
}

/** The words after the command's name (or an alias) in process.argv: what the user typed for it. */
export function commandArgv(names: readonly string[], argv: readonly string[] = process.argv.slice(2)): string[] {
  const i = argv.findIndex((w) => names.includes(w));
  return i < 0 ? [...argv] : argv.slice(i + 1);
}

/**
 * For a command's action: the positional words and the plural flag's full list, or a usage error
 * naming the words that are left over (`most` positional words at most).
 */
export function positionalsWithList(
  command: readonly string[],
  flag: string,
  given: readonly string[],
  list: readonly string[],
  opts: { targets: number; most: number; isTarget?: (word: string) => boolean },
): { positionals: string[]; list: string[]; expanded: string[] } {
  const { extra, positionals } = claimExpanded(commandArgv(command), flag, given, opts.targets, opts.isTarget);
  if (positionals.length > opts.most) {
    throw new AibomError(
      'USAGE',
      `too many arguments: ${positionals
        .slice(opts.most)
        .map((w) => JSON.stringify(w))
        .join(', ')} (${command[0]} takes ${opts.most === 0 ? 'no positional argument' : opts.most === 1 ? 'one path' : `${opts.most} paths`})`,
    );
  }
  return { positionals, list: [...list, ...extra], expanded: extra };
}
