import type { KvRing } from '../runtime/kv-ring.js';

// How a prefill pass reads and writes one slot of the ring cache (KvRing's
// own methods address the first n slots of a batch; a prefill is one slot).

/**
 * The past one prefill pass attends to: columns of a slot's ring cache and
 * the absolute position each holds. A ring that has not wrapped yet holds
 * positions 0..p-1 in its first p rows, and only those are passed (copied,
 * since a slot's heads lie C rows apart); a full ring is passed whole, without a
 * copy.
 */
export interface PrefillPast {
  /** Number of columns P. */
  length: number;
  /** [P] absolute position held by each column, -1 for an empty one. */
  positions: Int32Array;
  /** [H, P, Dh] keys of a layer. */
  keys(layer: number): Float32Array;
  /** [H, P, Dh] values of a layer. */
  values(layer: number): Float32Array;
}

/**
 * Absolute position held by each column of a ring of `capacity` columns that
 * has seen `position` tokens (-1 where none was written): position s lives in
 * column s % capacity, and a column holds the latest such s below `position`.
 */
export function ringPositions(position: number, capacity: number): Int32Array {
  const out = new Int32Array(capacity);
  for (let j = 0; j < capacity; j++) {
    const s = position - 1 - (((position - 1 - j) % capacity) + capacity) % capacity;
    out[j] = s >= 0 ? s : -1;
  }
  return out;
}

/**
 * Buffers for the copied past of a ring that has not wrapped, one slot's
 * worth, reused from pass to pass: fresh multi-megabyte arrays per pass cost
 * more (zeroing, page faults) than the copy itself.
 */
export class PastScratch {
  readonly keys: Float32Array[] = [];
  readonly values: Float32Array[] = [];
  constructor(cache: KvRing) {
    const size = cache.heads * cache.dimPerHead * cache.capacity;
    for (let l = 0; l < cache.layers; l++) {
      this.keys.push(new Float32Array(size));
      this.values.push(new Float32Array(size));
    }
  }
}

export function prefillPast(cache: KvRing, slot: number, scratch: PastScratch): PrefillPast {
  const { heads: H, dimPerHead: D, capacity: C } = cache;
  const size = H * D * C;
  const p = cache.positions[slot]!;
  const keysOf = (l: number) => cache.keys[l]!.subarray(slot * size, (slot + 1) * size);
  const valuesOf = (l: number) => cache.values[l]!.subarray(slot * size, (slot + 1) * size);
  if (p >= C) return { length: C, positions: ringPositions(p, C), keys: keysOf, values: valuesOf };
  return {
    length: p,
    positions: ringPositions(p, p),
    keys: (l) => {
      const all = keysOf(l);
      const out = scratch.keys[l]!.subarray(0, H * D * p);
      for (let h = 0; h < H; h++) out.set(all.subarray(h * C * D, h * C * D + p * D), h * p * D);
      return out;
    },
    values: (l) => {
      const all = valuesOf(l);
      const out = scratch.values[l]!.subarray(0, H * D * p);
      for (let h = 0; h < H; h++) out.set(all.subarray(h * C * D, h * C * D + p * D), h * p * D);
      return out;
    },
  };
}

/**
 * Additive bias [T, P] for queries at positions position..position+T-1 over
 * the past columns: 0 where the column holds a key within the query's
 * context window, -inf elsewhere.
 */
export function pastBias(positions: Int32Array, position: number, T: number, context: number): Float32Array {
  const P = positions.length;
  const out = new Float32Array(T * P);
  for (let t = 0; t < T; t++) {
    for (let j = 0; j < P; j++) {
      const s = positions[j]!;
      out[t * P + j] = s >= 0 && position + t - s < context ? 0 : -Infinity;
    }
  }
  return out;
}

/**
 * Stores one pass's new keys/values ([H, T, Dh], rotated) at the slot's next
 * positions and advances it: KvRing.write + advance for a single slot.
 */
export function writeSlot(cache: KvRing, slot: number, T: number, newK: (layer: number) => Float32Array, newV: (layer: number) => Float32Array): void {
  const { heads: H, dimPerHead: D, capacity: C } = cache;
  const p = cache.positions[slot]!;
  const first = Math.max(0, T - C); // of more than C new frames only the last C stay
  for (let l = 0; l < cache.layers; l++) {
    const K = cache.keys[l]!;
    const V = cache.values[l]!;
    const k = newK(l);
    const v = newV(l);
    for (let h = 0; h < H; h++) {
      const head = (slot * H + h) * D * C;
      for (let t = first; t < T; t++) {
        const src = (h * T + t) * D;
        V.set(v.subarray(src, src + D), head + ((p + t) % C) * D);
        K.set(k.subarray(src, src + D), head + ((p + t) % C) * D);
      }
    }
  }
  cache.positions[slot] = p + T;
}
