/**
 * Moshi's sample_token written out plainly, for checking graphs that sample:
 * keep the logits at or above the k-th largest, weights exp((l - max) / T)
 * in float64, inverse CDF in index order at u; greedy is the first argmax.
 * Also returns how close u · total came to a CDF step (float32 graphs may
 * round across one).
 */
export function referenceDraw(logits: ArrayLike<number>, temperature: number, topK: number, u: number): { token: number; margin: number } {
  const sorted = Array.from(logits).sort((a, b) => b - a);
  const max = sorted[0]!;
  if (!(temperature > 0) || topK === 1) return { token: Array.prototype.indexOf.call(logits, max) as number, margin: Infinity };
  const k = topK <= 0 ? logits.length : Math.min(topK, logits.length);
  const kth = sorted[k - 1]!;
  const w = Array.from(logits, (l) => (l >= kth ? Math.exp((l - max) / temperature) : 0));
  const total = w.reduce((a, b) => a + b, 0);
  const x = u * total;
  let acc = 0;
  for (let i = 0; i < w.length; i++) {
    if (w[i] === 0) continue;
    const before = acc;
    acc += w[i]!;
    if (x < acc) return { token: i, margin: Math.min(x - before, acc - x) / total };
  }
  return { token: w.length - 1, margin: 0 };
}
