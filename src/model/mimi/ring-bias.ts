/**
 * Additive attention bias [rows, 1, T, C] over a KV ring of capacity C for T
 * new tokens per row, as Moshi's RingKVCache sees it: the T new keys are
 * written into the ring before attending, so they overwrite the T oldest
 * slots, and every query of the chunk sees exactly the past positions
 * [p + T - C, p) (p = the row's position before the chunk) plus the new
 * tokens causally. For T = 1 this is the usual "last C positions"; for T > 1
 * the earlier queries of a chunk see fewer past keys than a pure sliding
 * window would, and the reference codec's numbers depend on that.
 */
export function ringChunkBias(
  positions: ArrayLike<number>, rows: number, T: number, C: number, out = new Float32Array(rows * T * C),
): Float32Array {
  for (let r = 0; r < rows; r++) {
    const p = positions[r]!;
    const oldest = Math.max(0, p + T - C);
    const base = r * T * C;
    for (let j = 0; j < C; j++) {
      // The latest position < p stored in slot j (negative: never written).
      const stored = p - 1 - ((((p - 1 - j) % C) + C) % C);
      out[base + j] = stored >= oldest ? 0 : -Infinity;
    }
    for (let t = 1; t < T; t++) out.copyWithin(base + t * C, base, base + C);
  }
  return out;
}
