// Exact top-k selection over a slice of logits without sorting it: which k
// entries are largest (lowest index first among equal values, so the result
// does not depend on the strategy). Two strategies, picked by k / length:
//  - small k (text: 25 of 32000): one pass with a size-k min-heap; most
//    entries cost a single comparison with the heap's minimum.
//  - large k (audio: 250 of 2048): a 256-bin histogram between min and max
//    finds the bin holding the k-th largest value in two passes, a third pass
//    collects what lies above it, and only that bin's entries go through the
//    heap. Heap replacements, not the scan, dominate when k is a sizeable
//    fraction of the slice, and this avoids most of them.
// No allocation once the scratch buffers have grown to the largest slice seen.

const BINS = 256;
/** Heap when k * HEAP_RATIO <= length. */
const HEAP_RATIO = 32;

export class TopKSelector {
  /** After select(): the selected values and their indices (relative to the offset), in no particular order. */
  keys = new Float32Array(256);
  indices = new Int32Array(256);
  private candKeys = new Float32Array(256);
  private candIdx = new Int32Array(256);
  private readonly counts = new Int32Array(BINS);
  private binOf = new Uint8Array(256);

  /** `strategy` other than 'auto' is for tests and benchmarks. */
  constructor(private readonly strategy: 'auto' | 'heap' | 'histogram' = 'auto') {}

  /** Selects the k largest non-NaN entries of logits[offset, offset + length); returns how many (k unless there are fewer). */
  select(logits: Float32Array, offset: number, length: number, k: number): number {
    const heap = this.strategy === 'auto' ? k * HEAP_RATIO <= length : this.strategy === 'heap';
    if (heap) return this.heapSelect(logits, offset, length, k, null);
    return this.histogramSelect(logits, offset, length, k);
  }

  /** Takes every non-NaN entry (top-k with k >= length); returns how many. */
  selectAll(logits: Float32Array, offset: number, length: number): number {
    this.grow(length);
    const key = this.keys;
    const idx = this.indices;
    let n = 0;
    for (let i = 0; i < length; i++) {
      const v = logits[offset + i]!;
      if (v !== v) continue;
      key[n] = v;
      idx[n++] = i;
    }
    return n;
  }

  private grow(n: number): void {
    if (this.keys.length < n) {
      const cap = capacityFor(n);
      this.keys = new Float32Array(cap);
      this.indices = new Int32Array(cap);
    }
  }

  /**
   * Heap selection of src[offset, offset + length) into keys/indices[0, k).
   * `indexMap`, when given, translates positions in src into the indices to record.
   */
  private heapSelect(src: Float32Array, offset: number, length: number, k: number, indexMap: Int32Array | null): number {
    this.grow(k);
    // A min-heap; among equal values the later index counts as smaller, so
    // it is the one evicted.
    const key = this.keys;
    const idx = this.indices;
    let n = 0;
    let i = 0;
    for (; i < length && n < k; i++) {
      const v = src[offset + i]!;
      if (v !== v) continue; // NaN
      let c = n++;
      while (c > 0) {
        const p = (c - 1) >> 1;
        if (key[p]! < v) break;
        key[c] = key[p]!;
        idx[c] = idx[p]!;
        c = p;
      }
      key[c] = v;
      idx[c] = i;
    }
    let min = key[0]!;
    for (; i < length; i++) {
      const v = src[offset + i]!;
      if (!(v > min)) continue; // also skips NaN; an equal value keeps the earlier index
      let c = 0;
      for (;;) {
        const l = 2 * c + 1;
        if (l >= n) break;
        const r = l + 1;
        let m = l;
        if (r < n && (key[r]! < key[l]! || (key[r] === key[l] && idx[r]! > idx[l]!))) m = r;
        if (!(key[m]! < v)) break;
        key[c] = key[m]!;
        idx[c] = idx[m]!;
        c = m;
      }
      key[c] = v;
      idx[c] = i;
      min = key[0]!;
    }
    if (indexMap) for (let j = 0; j < n; j++) idx[j] = indexMap[idx[j]!]!;
    return n;
  }

  private histogramSelect(logits: Float32Array, offset: number, length: number, k: number): number {
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < length; i++) {
      const v = logits[offset + i]!;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    const range = hi - lo;
    // Infinities, all-equal or all-NaN slices: the heap copes with anything.
    if (!(range > 0 && range < Infinity)) return this.heapSelect(logits, offset, length, k, null);
    const scale = BINS / range;
    const counts = this.counts;
    counts.fill(0);
    if (this.binOf.length < length) this.binOf = new Uint8Array(capacityFor(length));
    const binOf = this.binOf;
    for (let i = 0; i < length; i++) {
      // A NaN lands in bin 0 (NaN | 0 is 0); the heap skips it.
      const b = ((logits[offset + i]! - lo) * scale) | 0;
      const bin = b < BINS ? b : BINS - 1;
      binOf[i] = bin;
      counts[bin]!++;
    }
    // The bin holding the k-th largest value, and how many lie above it.
    let above = 0;
    let edge = BINS - 1;
    while (edge > 0 && above + counts[edge]! < k) above += counts[edge--]!;
    const inEdge = counts[edge]!;
    if (above + inEdge < k) k = above + inEdge; // fewer entries than k

    // The edge bin's best go to [0, fromEdge) through the heap, what lies above to [fromEdge, k).
    const fromEdge = k - above;
    this.grow(k);
    if (this.candKeys.length < inEdge) {
      const cap = capacityFor(inEdge);
      this.candKeys = new Float32Array(cap);
      this.candIdx = new Int32Array(cap);
    }
    const key = this.keys;
    const idx = this.indices;
    const candKeys = this.candKeys;
    const candIdx = this.candIdx;
    let n = fromEdge;
    let c = 0;
    for (let i = 0; i < length; i++) {
      const b = binOf[i]!;
      if (b < edge) continue;
      if (b > edge) {
        key[n] = logits[offset + i]!;
        idx[n++] = i;
      } else {
        candKeys[c] = logits[offset + i]!;
        candIdx[c++] = i;
      }
    }
    // Bins are monotonic in the value, so equal values share a bin and the
    // edge bin's heap settles every tie.
    const got = this.heapSelect(candKeys, 0, c, fromEdge, candIdx);
    if (got < fromEdge) {
      // NaNs in bin 0 left the heap short: close the gap.
      key.copyWithin(got, fromEdge, k);
      idx.copyWithin(got, fromEdge, k);
    }
    return got + above;
  }
}

function capacityFor(n: number): number {
  let cap = 256;
  while (cap < n) cap *= 2;
  return cap;
}
