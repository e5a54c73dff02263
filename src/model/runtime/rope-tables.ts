/**
 * cos/sin tables [rows, 1, T, Dh/2, 1] for interleaved RoPE at each row's own
 * positions, computed in float32 steps as Moshi's apply_rope does.
 */
export function ropeTables(
  positions: ArrayLike<number>, rows: number, T: number, dimPerHead: number, maxPeriod: number,
): { cos: Float32Array; sin: Float32Array } {
  const half = dimPerHead / 2;
  const freqs = new Float32Array(half);
  const c = Math.fround((-Math.log(maxPeriod) * 2) / dimPerHead);
  for (let i = 0; i < half; i++) freqs[i] = Math.fround(Math.exp(Math.fround(i * c)));
  const cos = new Float32Array(rows * T * half);
  const sin = new Float32Array(rows * T * half);
  for (let r = 0; r < rows; r++) {
    for (let t = 0; t < T; t++) {
      const ts = Math.fround(positions[r]! + t);
      const base = (r * T + t) * half;
      for (let i = 0; i < half; i++) {
        const angle = Math.fround(freqs[i]! * ts);
        cos[base + i] = Math.cos(angle);
        sin[base + i] = Math.sin(angle);
      }
    }
  }
  return { cos, sin };
}

/** Additive causal bias [1, 1, T, T] among T new tokens; a query sees at most `context` positions back. */
export function causalBias(T: number, context = Infinity): Float32Array {
  const out = new Float32Array(T * T);
  for (let i = 0; i < T; i++) for (let j = 0; j < T; j++) out[i * T + j] = j <= i && i - j < context ? 0 : -Infinity;
  return out;
}
