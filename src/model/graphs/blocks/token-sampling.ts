import { A, type GraphBuilder, type Value } from '../../onnx/graph-builder.js';

/**
 * Per-row sampling settings fed to a graph that samples its own tokens, so
 * that steps which feed on each other's tokens (the depformer's codebooks)
 * run as one graph, without a trip to the host between them.
 */
export interface SamplingInputs {
  /** [B, 1] float32: 1 / temperature (greedy rows: any finite value). */
  invTemperature: Value;
  /** [B, K] float32: 1 for ranks below the row's top-k, else 0 (greedy rows: top-1). */
  rankMask: Value;
  /** [1] int64: K, the largest top-k of the batch. */
  topK: Value;
}

/** Above every logit: ranks outside a row's top-k are pushed here before the minimum. */
const OUT_OF_TOP = 3e38;

/**
 * Moshi's sample_token for a batch of logits [B, N] (float32): each row keeps
 * the logits at or above its k-th largest and draws among them with weights
 * exp((l - max) / T), by inverse CDF in index order at its uniform u [B, 1]
 * (which the caller keeps below 1 - 1e-6). A greedy row is top-1 at u = 0,
 * which lands on its first largest logit, as argmax does.
 *
 * Written for GPU providers: only float math and one float-to-int32 cast at
 * the end; no int64 tensors are read and nothing gathers by index, since
 * onnxruntime's WebGPU provider runs such operators on the CPU (a device
 * round trip each).
 */
export function sampleTokens(b: GraphBuilder, logits: Value, u: Value, s: SamplingInputs): Value {
  const values = b.op('TopK', [logits, s.topK], { axis: A.i(-1), largest: A.i(1), sorted: A.i(1) }, { outputs: 2 })[0]!;
  const top = b.slice(values, [0], [1], [1]);
  const outside = b.mul(b.sub(b.constF32(1), s.rankMask), b.constF32(OUT_OF_TOP));
  const kth = b.op1('ReduceMin', [b.add(values, outside)], { axes: A.ints([1]), keepdims: A.i(1) });
  const scaled = b.op1('Exp', [b.mul(b.sub(logits, top), s.invTemperature)]);
  const weights = b.op1('Where', [b.op1('GreaterOrEqual', [logits, kth]), scaled, b.constF32(0)]);
  const cdf = b.op1('CumSum', [weights, b.constI64(1)]);
  const total = b.slice(cdf, [-1], [Number.MAX_SAFE_INTEGER], [1]);
  // The draw is the first entry whose cumulative weight exceeds u · total: the count of those that do not.
  const before = b.op1('Where', [b.op1('LessOrEqual', [cdf, b.mul(u, total)]), b.constF32(1), b.constF32(0)]);
  return b.cast(b.reduceSum(before, [1], false), 'int32');
}
