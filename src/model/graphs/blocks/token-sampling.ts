import { A, type GraphBuilder, type Value } from '../../onnx/graph-builder.js';

/**
 * Per-row sampling settings fed to a graph that samples its own tokens, so
 * that steps which feed on each other's tokens (the depformer's codebooks)
 * run as one graph, without a trip to the host between them.
 */
export interface SamplingInputs {
  /** [B, 1] float32: 1 / temperature (any finite value for greedy rows). */
  invTemperature: Value;
  /** [B] bool: argmax instead of a draw. */
  greedy: Value;
  /** [B, K] float32: 1 for ranks below the row's top-k, else 0. */
  rankMask: Value;
  /** [B, 1] int32: the row's top-k minus one (the last rank a draw may land on). */
  lastRank: Value;
  /** [1] int64: K, the largest top-k of the batch. */
  topK: Value;
}

/**
 * Moshi's sample_token for a batch of logits [B, N] (float32): greedy rows
 * take the first argmax; the others keep their k largest logits and draw by
 * inverse CDF with their uniform u [B, 1] in [0, 1), over the kept entries
 * in descending order (TopK puts equal values in index order), with weights
 * exp((l - max) / T). Returns the tokens [B] int32.
 */
export function sampleTokens(b: GraphBuilder, logits: Value, u: Value, s: SamplingInputs): Value {
  const greedyTok = b.cast(b.op1('ArgMax', [logits], { axis: A.i(1), keepdims: A.i(0) }), 'int32');
  const [values, indices] = b.op('TopK', [logits, s.topK], { axis: A.i(-1), largest: A.i(1), sorted: A.i(1) }, { outputs: 2 }) as [Value, Value];
  const top = b.slice(values, [0], [1], [1]);
  const weights = b.mul(b.op1('Exp', [b.mul(b.sub(values, top), s.invTemperature)]), s.rankMask);
  const cdf = b.op1('CumSum', [weights, b.constI64(1)]);
  const total = b.slice(cdf, [-1], [Number.MAX_SAFE_INTEGER], [1]);
  // The draw lands on the first rank whose cumulative weight exceeds u · total.
  const passed = b.cast(b.op1('LessOrEqual', [cdf, b.mul(u, total)]), 'float32');
  const rank = b.op1('Min', [b.cast(b.reduceSum(passed, [1], true), 'int32'), s.lastRank]);
  const drawn = b.squeeze(b.op1('GatherElements', [b.cast(indices, 'int32'), rank], { axis: A.i(1) }), [1]);
  return b.op1('Where', [s.greedy, greedyTok, drawn]);
}
