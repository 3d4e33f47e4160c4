/** A set of numbers with O(1) add, delete and pick-by-position, for choosing random targets. */
export class IndexedSet {
  private readonly items: number[] = [];
  private readonly positions = new Map<number, number>();

  get size(): number {
    return this.items.length;
  }

  has(item: number): boolean {
    return this.positions.has(item);
  }

  add(item: number): void {
    if (this.positions.has(item)) return;
    this.positions.set(item, this.items.length);
    this.items.push(item);
  }

  delete(item: number): void {
    const position = this.positions.get(item);
    if (position === undefined) return;
    // Swap with the last item so removal stays O(1); order is irrelevant for random picks.
    const last = this.items.pop() as number;
    if (last !== item) {
      this.items[position] = last;
      this.positions.set(last, position);
    }
    this.positions.delete(item);
  }

  /** The item at `position` (0 <= position < size). */
  at(position: number): number {
    const item = this.items[position];
    if (item === undefined)
      throw new RangeError(`position ${position} outside 0..${this.size - 1}`);
    return item;
  }
}
