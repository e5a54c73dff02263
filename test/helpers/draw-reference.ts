/**
 * Moshi's sample_token written out plainly, for checking graphs that sample:
 * the k largest logits in descending order (equal values in index order),
 * weights exp((l - max) / T) in float64, inverse CDF at u. Also returns how
 * close u · total came to a CDF step (float32 graphs may round across one).
 */
export function referenceDraw(logits: ArrayLike<number>, temperature: number, topK: number, u: number): { token: number; margin: number } {
  const order = Array.from({ length: logits.length }, (_, i) => i).sort((a, b) => logits[b]! - logits[a]! || a - b);
  if (!(temperature > 0) || topK === 1) return { token: order[0]!, margin: Infinity };
  const k = topK <= 0 ? logits.length : Math.min(topK, logits.length);
  const top = logits[order[0]!]!;
  const w = order.slice(0, k).map((i) => Math.exp((logits[i]! - top) / temperature));
  const total = w.reduce((a, b) => a + b, 0);
  const x = u * total;
  let acc = 0;
  for (let j = 0; j < k; j++) {
    const before = acc;
    acc += w[j]!;
    if (x < acc) return { token: order[j]!, margin: Math.min(x - before, acc - x) / total };
  }
  return { token: order[k - 1]!, margin: 0 };
}
