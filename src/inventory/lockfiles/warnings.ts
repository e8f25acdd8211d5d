/** Warnings with caps, so a broken or hostile lockfile cannot flood the output. */
export class Warnings {
  readonly list: string[] = [];
  private missing = 0;
  private other = 0;
  add(w: string): void {
    if (++this.other <= 50) this.list.push(w);
  }
  /** "dependency is not in the lockfile": reported 10 times, then counted. */
  missingDep(w: string): void {
    if (++this.missing <= 10) this.list.push(w);
  }
  get missingCount(): number {
    return this.missing;
  }
  done(): string[] {
    if (this.missing > 10) this.list.push(`${this.missing - 10} more dependencies are not in the lockfile`);
    if (this.other > 50) this.list.push(`${this.other - 50} more warnings like these`);
    return this.list;
  }
}
