/**
 * Host-side bookkeeping of the device KV cache (see temporal-graph.ts): which
 * absolute position each ring slot and window slot holds, per row, so that
 * the per-step attention bias hides empty, stale and expired slots.
 *
 * The ring is indexed by the runner's global step (all rows step together,
 * so the window is folded into the ring at the same offset for every row);
 * keys are stored rotated at their own positions, so slot order does not
 * matter to attention. A row that skips steps (exec = 0) therefore keeps
 * C global steps of history rather than C of its own frames.
 *
 * A book with a `phase` folds at the steps where step + phase is a multiple
 * of N (its first fold comes early, with a partly filled window): books of
 * different layer groups then fold on different steps (see foldGroupOf).
 */
export class CacheBook {
  readonly positions: Int32Array;
  /** [slots, C]: absolute position stored in each ring slot, -1 for none. */
  readonly ringPos: Int32Array;
  /** [slots, N]: the same for the window, oldest first. */
  readonly winPos: Int32Array;
  /** Steps taken by the runner (all rows). */
  step = 0;
  /** Folds done: the next goes to ring offset (folds * N) mod C. */
  private folds = 0;

  constructor(
    readonly slots: number,
    /** Ring length C (a multiple of `window`). */
    readonly capacity: number,
    readonly window: number,
    /** The model's attention span: a query at p sees positions > p - context. */
    readonly context: number,
    readonly phase = 0,
  ) {
    if (capacity % window !== 0 || window >= capacity) throw new Error(`cache window ${window} must divide the ring length ${capacity} and be shorter`);
    if (!Number.isInteger(phase) || phase < 0 || phase >= window) throw new Error(`cache fold phase ${phase} must be in [0, ${window})`);
    this.positions = new Int32Array(slots);
    this.ringPos = new Int32Array(slots * capacity).fill(-1);
    this.winPos = new Int32Array(slots * window).fill(-1);
  }

  reset(slot: number): void {
    this.positions[slot] = 0;
    this.ringPos.fill(-1, slot * this.capacity, (slot + 1) * this.capacity);
    this.winPos.fill(-1, slot * this.window, (slot + 1) * this.window);
  }

  move(from: number, to: number): void {
    const C = this.capacity;
    const N = this.window;
    this.ringPos.copyWithin(to * C, from * C, (from + 1) * C);
    this.winPos.copyWithin(to * N, from * N, (from + 1) * N);
    this.positions[to] = this.positions[from]!;
  }

  /**
   * Additive bias [slots, 1, 1, C + N] for the next step: the ring, then the
   * window as the graph sees it (shifted, the new frame last, always visible
   * so that no row's softmax is over nothing).
   */
  bias(out = new Float32Array(this.slots * (this.capacity + this.window))): Float32Array {
    const C = this.capacity;
    const N = this.window;
    const W = C + N;
    for (let r = 0; r < this.slots; r++) {
      const q = this.positions[r]!;
      const base = r * W;
      for (let c = 0; c < C; c++) out[base + c] = this.visible(q, this.ringPos[r * C + c]!) ? 0 : -Infinity;
      for (let j = 0; j < N - 1; j++) out[base + C + j] = this.visible(q, this.winPos[r * N + j + 1]!) ? 0 : -Infinity;
      out[base + W - 1] = 0;
    }
    return out;
  }

  private visible(q: number, p: number): boolean {
    return p >= 0 && q - p < this.context;
  }

  /**
   * Records a step: the window shifts, rows with exec set store their new
   * frame and advance. Returns the ring offset to fold the window into when
   * its fold is due, else null (then call `merged`).
   */
  advance(exec?: Uint8Array): number | null {
    const N = this.window;
    for (let r = 0; r < this.slots; r++) {
      const row = this.winPos.subarray(r * N, (r + 1) * N);
      row.copyWithin(0, 1);
      const on = !exec || (exec[r] ?? 0) !== 0;
      row[N - 1] = on ? this.positions[r]! : -1;
      if (on) this.positions[r]! += 1;
    }
    this.step++;
    if ((this.step + this.phase) % N !== 0) return null;
    return (this.folds++ * N) % this.capacity;
  }

  /** The window now lives in the ring at `offset`; its slots become stale. */
  merged(offset: number): void {
    const C = this.capacity;
    const N = this.window;
    for (let r = 0; r < this.slots; r++) {
      for (let j = 0; j < N; j++) this.ringPos[r * C + offset + j] = this.winPos[r * N + j]!;
    }
    this.winPos.fill(-1);
  }
}

/**
 * Layer l's fold group when L layers are folded in G groups: contiguous
 * runs of layers. Each group has its own cache book with phase
 * group * N / G, so a step folds at most one group: the ring copy that
 * stalled a whole step once per N steps is cut into G smaller ones.
 */
export function foldGroupOf(layer: number, layers: number, groups: number): number {
  return Math.floor((layer * groups) / layers);
}

export function foldPhase(group: number, groups: number, window: number): number {
  return Math.floor((group * window) / groups);
}

/** Fold groups for a temporal graph: up to 4, no more than the layers or the window's frames. */
export function foldGroupsFor(layers: number, window: number): number {
  return Math.max(1, Math.min(4, layers, window));
}

/**
 * The window length: the largest divisor of C that is at most `target` and
 * shorter than C. Each step copies the window, so its cost grows with N;
 * each fold copies a ring, once per N steps. Measured on the H100 at batch
 * 32 (moshi-7b-shaped): going from N = 30 to 100 cut the folds' share of a
 * frame from about 17 to 5 ms but raised the temporal step's median by
 * 13 ms; N = 50 sits between.
 */
export function windowFor(C: number, target = 50): number {
  if (C < 2) throw new Error(`context ${C} is too short for the device cache`);
  for (let n = Math.min(target, C - 1); n >= 1; n--) if (C % n === 0) return n;
  return 1;
}
