/**
 * A pool of ring-buffer KV caches for up to `slots` sessions, one pair of
 * arrays per layer, owned by JavaScript so that graphs read them as inputs
 * without copies (onnxruntime-node cannot write outputs in place).
 *
 * Keys and values are both [slot, H, C, Dh], one row per position (see
 * AttentionPast for why keys are not stored transposed). Keys are stored already rotated at
 * their absolute positions, so slot order does not matter to attention and a
 * ring works: position p lives in slot p % C. A batch is always the first n
 * slots, so a batch's cache is a prefix view of each array.
 */
export class KvRing {
  readonly keys: Float32Array[] = [];
  readonly values: Float32Array[] = [];
  /** Number of tokens each slot has seen (its next absolute position). */
  readonly positions: Int32Array;
  private readonly slotSize: number;

  constructor(
    readonly layers: number,
    readonly slots: number,
    readonly heads: number,
    readonly dimPerHead: number,
    readonly capacity: number,
  ) {
    this.slotSize = heads * dimPerHead * capacity;
    for (let l = 0; l < layers; l++) {
      // fill() touches every page now: the pool is held for all slots from
      // the start, instead of faulting pages in inside ticks as positions
      // advance (which also read as memory growth of a steady server).
      this.keys.push(new Float32Array(slots * this.slotSize).fill(0));
      this.values.push(new Float32Array(slots * this.slotSize).fill(0));
    }
    this.positions = new Int32Array(slots);
  }

  /** Bytes held for one session (keys and values, all layers). */
  get bytesPerSlot(): number {
    return this.layers * 2 * this.slotSize * 4;
  }

  reset(slot: number): void {
    this.positions[slot] = 0;
  }

  keyView(layer: number, rows: number): Float32Array {
    return this.keys[layer]!.subarray(0, rows * this.slotSize);
  }

  valueView(layer: number, rows: number): Float32Array {
    return this.values[layer]!.subarray(0, rows * this.slotSize);
  }

  /**
   * Additive attention bias [rows, 1, T, C] for T new tokens per row: 0 where
   * the slot holds a position the query may see (within the last C positions,
   * the query's own excluded since it is among the new tokens), -inf elsewhere.
   */
  bias(rows: number, T: number, out = new Float32Array(rows * T * this.capacity)): Float32Array {
    const C = this.capacity;
    for (let r = 0; r < rows; r++) {
      const p = this.positions[r]!;
      for (let t = 0; t < T; t++) {
        const base = (r * T + t) * C;
        const qPos = p + t;
        for (let j = 0; j < C; j++) {
          // Latest position < p stored in slot j.
          const stored = p - 1 - mod(p - 1 - j, C);
          out[base + j] = stored >= 0 && qPos - stored < C ? 0 : -Infinity;
        }
      }
    }
    return out;
  }

  /**
   * Stores the new keys/values ([rows, H, T, Dh]) of one layer for the rows
   * whose `exec` flag is set, at their current positions. Call `advance` once
   * all layers are written.
   */
  write(layer: number, rows: number, T: number, newK: Float32Array, newV: Float32Array, exec?: Uint8Array): void {
    const { heads: H, dimPerHead: D, capacity: C } = this;
    const K = this.keys[layer]!;
    const V = this.values[layer]!;
    for (let r = 0; r < rows; r++) {
      if (exec && !exec[r]) continue;
      const p = this.positions[r]!;
      const slotBase = r * this.slotSize;
      for (let h = 0; h < H; h++) {
        const headBase = slotBase + h * D * C;
        for (let t = Math.max(0, T - C); t < T; t++) {
          const c = (p + t) % C;
          const src = ((r * H + h) * T + t) * D;
          V.set(newV.subarray(src, src + D), headBase + c * D);
          K.set(newK.subarray(src, src + D), headBase + c * D);
        }
      }
    }
  }

  advance(rows: number, T: number, exec?: Uint8Array): void {
    for (let r = 0; r < rows; r++) if (!exec || exec[r]) this.positions[r]! += T;
  }

  /** One slot's cache as one flat copy: [position, then keys and values of each layer]. */
  exportSlot(slot: number): Float32Array {
    const out = new Float32Array(1 + this.layers * 2 * this.slotSize);
    out[0] = this.positions[slot]!;
    for (let l = 0; l < this.layers; l++) {
      const at = 1 + l * 2 * this.slotSize;
      out.set(this.keys[l]!.subarray(slot * this.slotSize, (slot + 1) * this.slotSize), at);
      out.set(this.values[l]!.subarray(slot * this.slotSize, (slot + 1) * this.slotSize), at + this.slotSize);
    }
    return out;
  }

  importSlot(slot: number, data: Float32Array): void {
    if (data.length !== 1 + this.layers * 2 * this.slotSize) throw new Error(`KV snapshot has ${data.length} values, expected ${1 + this.layers * 2 * this.slotSize}`);
    this.positions[slot] = data[0]!;
    for (let l = 0; l < this.layers; l++) {
      const at = 1 + l * 2 * this.slotSize;
      this.keys[l]!.set(data.subarray(at, at + this.slotSize), slot * this.slotSize);
      this.values[l]!.set(data.subarray(at + this.slotSize, at + 2 * this.slotSize), slot * this.slotSize);
    }
  }

  /** Moves a session's cache to another slot (used to keep batches compact). */
  move(from: number, to: number): void {
    if (from === to) return;
    for (let l = 0; l < this.layers; l++) {
      this.keys[l]!.copyWithin(to * this.slotSize, from * this.slotSize, (from + 1) * this.slotSize);
      this.values[l]!.copyWithin(to * this.slotSize, from * this.slotSize, (from + 1) * this.slotSize);
    }
    this.positions[to] = this.positions[from]!;
  }
}

function mod(a: number, n: number): number {
  return ((a % n) + n) % n;
}
