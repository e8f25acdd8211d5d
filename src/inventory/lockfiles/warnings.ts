/**
 * Warnings with caps, so a broken or hostile lockfile cannot flood the output (nor memory:
 * only the first few of a kind are kept, the rest are counted). One class for every
 * lockfile parser; each format keeps its own caps and wording, since the messages are part
 * of the output:
 *
 * - npm, pnpm: 50 warnings, then "N more warnings like these"; missing dependencies a kind
 *   of their own (10, then "N more dependencies are not in the lockfile").
 * - Python: 100 warnings, then "... and N more warnings like these".
 * - yarn: warnings uncapped (each is a fact about the whole file); its repeated kinds
 *   (missing dependencies, unreadable integrity values) capped at 10 and closed with a count
 *   where they end.
 */
export interface WarningsOptions {
  /** Most general warnings kept (default 50). */
  cap?: number;
  /** The line that counts the general warnings left out. */
  more?: (dropped: number) => string;
}

/** One capped kind of warning; its messages join the list in order, its count at `close()`. */
export interface WarningKind {
  add(message: string): void;
  /** How many were reported (kept or counted). */
  readonly count: number;
  /** Append the count of those left out now (else `done()` does, in kind order). */
  close(): void;
}

export const MAX_SIMILAR_WARNINGS = 10;

export class Warnings {
  readonly list: string[] = [];
  private other = 0;
  private readonly cap: number;
  private readonly more: (dropped: number) => string;
  private readonly kinds: Array<{ close(): void }> = [];
  private readonly missing: WarningKind;

  constructor(options: WarningsOptions = {}) {
    this.cap = options.cap ?? 50;
    this.more = options.more ?? ((n) => `${n} more warnings like these`);
    this.missing = this.kind(MAX_SIMILAR_WARNINGS, (n) => `${n} more dependencies are not in the lockfile`);
  }

  add(w: string): void {
    if (++this.other <= this.cap) this.list.push(w);
  }

  /**
   * A capped kind: the first `cap` messages go into the list where they happen, then
   * `more(n)` says how many were left out.
   */
  kind(cap: number, more: (dropped: number) => string): WarningKind {
    const list = this.list;
    let count = 0;
    let closed = false;
    const k: WarningKind = {
      add(message) {
        if (++count <= cap) list.push(message);
      },
      get count() {
        return count;
      },
      close() {
        if (closed) return;
        closed = true;
        if (count > cap) list.push(more(count - cap));
      },
    };
    this.kinds.push(k);
    return k;
  }

  /** "dependency is not in the lockfile" (npm, pnpm): reported 10 times, then counted. */
  missingDep(w: string): void {
    this.missing.add(w);
  }

  get missingCount(): number {
    return this.missing.count;
  }

  done(): string[] {
    for (const k of this.kinds) k.close();
    if (this.other > this.cap) this.list.push(this.more(this.other - this.cap));
    return this.list;
  }
}
