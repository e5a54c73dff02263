/**
 * Maps live sessions to batch rows, keeping them packed at the front so that
 * a batch is always the first n slots. Removing a session moves the last one
 * into its place; `onMove` lets the owner move that session's state too.
 */
export class SlotTable<T> {
  private readonly bySlot: T[] = [];
  private readonly slotOf = new Map<T, number>();

  constructor(readonly capacity: number) {}

  get size(): number {
    return this.bySlot.length;
  }

  get free(): number {
    return this.capacity - this.bySlot.length;
  }

  /** Returns the new slot, or null when full. */
  add(item: T): number | null {
    if (this.bySlot.length >= this.capacity) return null;
    const slot = this.bySlot.length;
    this.bySlot.push(item);
    this.slotOf.set(item, slot);
    return slot;
  }

  slot(item: T): number | undefined {
    return this.slotOf.get(item);
  }

  at(slot: number): T | undefined {
    return this.bySlot[slot];
  }

  items(): readonly T[] {
    return this.bySlot;
  }

  remove(item: T, onMove: (from: number, to: number) => void): boolean {
    const slot = this.slotOf.get(item);
    if (slot === undefined) return false;
    this.slotOf.delete(item);
    const last = this.bySlot.length - 1;
    const moved = this.bySlot.pop()!;
    if (slot !== last) {
      this.bySlot[slot] = moved;
      this.slotOf.set(moved, slot);
      onMove(last, slot);
    }
    return true;
  }
}
