/**
 * Host-side bookkeeping of the device KV cache (see temporal-graph.ts): a
 * ring of C slots per row, written in place. Each row writes its frame at
 * position p to slot p mod C, so a ring holds the row's own last C frames
 * (C ≤ context: all of them are in the attention span). Keys are stored
 * rotated at their own positions, so slot order does not matter to
 * attention; the bias only hides slots that hold nothing yet.
 *
 * The bias is kept up to date as slots fill: one element per row per step
 * changes, so nothing is recomputed.
 */
export class RingBook {
  /** Each row's next position (the frame the coming step writes). */
  readonly positions: Int32Array;
  /** [slots, C]: additive attention bias, 0 for a slot holding a frame, -inf for an empty one. */
  readonly bias: Float32Array;
  /** [slots]: the ring slot each row writes in the coming step. */
  readonly slot: Int32Array;

  constructor(
    readonly slots: number,
    /** Ring length C: the model's context, or fewer frames where memory is short. */
    readonly capacity: number,
    /** The model's attention span: a query at p sees positions > p - context. */
    readonly context: number,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`ring length ${capacity} must be a positive integer`);
    if (capacity > context) throw new Error(`ring length ${capacity} is longer than the context ${context}: slots would outlive the attention span`);
    this.positions = new Int32Array(slots);
    this.bias = new Float32Array(slots * capacity).fill(-Infinity);
    this.slot = new Int32Array(slots);
    this.prepare();
  }

  reset(row: number): void {
    this.positions[row] = 0;
    this.bias.fill(-Infinity, row * this.capacity, (row + 1) * this.capacity);
    this.prepare();
  }

  move(from: number, to: number): void {
    const C = this.capacity;
    this.bias.copyWithin(to * C, from * C, (from + 1) * C);
    this.positions[to] = this.positions[from]!;
    this.prepare();
  }

  /**
   * Records a step: rows with exec set (all when absent) keep the frame they
   * wrote and advance. A skipped row stays where it was; the graph wrote a
   * frame to its coming slot all the same, which its next step overwrites
   * before attention reads the ring.
   */
  advance(exec?: Uint8Array): void {
    for (let r = 0; r < this.slots; r++) {
      if (!exec || (exec[r] ?? 0) !== 0) this.positions[r]! += 1;
    }
    this.prepare();
  }

  /** The coming step's slots, visible in the bias: the new frame is always attended to, so no row's softmax is over nothing. */
  private prepare(): void {
    const C = this.capacity;
    for (let r = 0; r < this.slots; r++) {
      const s = this.positions[r]! % C;
      this.slot[r] = s;
      this.bias[r * C + s] = 0;
    }
  }
}
