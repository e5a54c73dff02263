import type { GraphBuilder, Value } from '../../onnx/graph-builder.js';
import { linear } from './linear.js';
import { applyRope } from './rope.js';

/**
 * The cache lives outside the graph (see engine/kv-pool.ts): the graph reads
 * the past keys/values as inputs, which onnxruntime wraps without copying,
 * and returns only the new step's keys/values for the engine to store.
 * Attention then covers the past and the new tokens without concatenating
 * them: one softmax over the joined scores, two weighted sums added.
 */
export interface AttentionPast {
  /**
   * [B, H, C, Dh] keys, rotated at their absolute positions. Stored like the
   * values, one row per position: the scores are computed as K·qᵀ, where
   * onnxruntime's CPU MatMul streams the cache rows in place (measured 3.5x
   * faster than q·Kᵀ over a transposed cache, which packs the whole cache).
   */
  k: Value;
  /** [B, H, C, Dh] values. */
  v: Value;
  /** [B, 1, T, C] additive bias: 0 for visible slots, -inf for empty or expired ones. */
  bias: Value;
  /**
   * Optional query-dependent key selection (block-sparse prefill, see
   * moba-selection.ts), added on top of `bias` and the causal self bias.
   */
  select?: KeySelector;
  /**
   * Attend over the past and new keys joined into one tensor, which copies
   * the past keys and values (2·H·Dh·C floats) instead of the score matrix
   * twice (concat, then split: 2·H·T·C). Cheaper when T > Dh, as in prefill
   * chunks; needs a self bias.
   */
  joinKeys?: boolean;
}

/** Given the queries [B,H,T,Dh] (scaled by 1/sqrt(Dh)) and new keys [B,H,T,Dh], extra additive biases. */
export type KeySelector = (q: Value, newK: Value) => KeySelection;

export interface KeySelection {
  /** [B, H, T, C] for the past keys. */
  past: Value;
  /** [B, H, T, T] for the new keys. */
  self: Value;
}

export interface AttentionArgs {
  name: string;
  /** [B, T, D], already normalized. */
  x: Value;
  dim: number;
  heads: number;
  inProj: Float32Array;
  outProj: Float32Array;
  past: AttentionPast | null;
  /** [B or 1, 1, T, T] additive causal bias among the new tokens; null when T = 1. */
  selfBias: Value | null;
  rope: { cos: Value; sin: Value } | null;
}

export interface AttentionResult {
  out: Value;
  /** [B, H, T, Dh] new keys (rotated). */
  newK: Value;
  /** [B, H, T, Dh] new values. */
  newV: Value;
}

export function attention(b: GraphBuilder, a: AttentionArgs): AttentionResult {
  const dh = a.dim / a.heads;
  // The 1/sqrt(Dh) score scale is folded into the query weights (RoPE is
  // linear, so it commutes): a Mul before the MatMul makes onnxruntime use
  // FusedMatMul, measured 2x slower than MatMul over a long cache.
  const inProj = Float32Array.from(a.inProj);
  const scale = 1 / Math.sqrt(dh);
  for (let i = 0; i < a.dim * a.dim; i++) inProj[i]! *= scale;
  const qkv = linear(b, a.x, `${a.name}.in_proj`, inProj, 3 * a.dim, a.dim);
  // [B, T, 3, H, Dh] -> [3, B, H, T, Dh]
  const split = b.transpose(b.reshape(qkv, [0, 0, 3, a.heads, dh]), [2, 0, 3, 1, 4]);
  let [q, k, v] = b.split(split, [1, 1, 1], 0).map((t) => b.squeeze(t, [0])) as [Value, Value, Value];
  if (a.rope) {
    q = applyRope(b, q, a.rope.cos, a.rope.sin, dh);
    k = applyRope(b, k, a.rope.cos, a.rope.sin, dh);
  }
  const qs = q;
  const project = (out: Value): AttentionResult => {
    const merged = b.reshape(b.transpose(out, [0, 2, 1, 3]), [0, 0, a.dim]);
    return { out: linear(b, merged, `${a.name}.out_proj`, a.outProj, a.dim, a.dim), newK: k, newV: v };
  };
  if (a.past?.joinKeys) return project(joinedKeysAttention(b, qs, k, v, a.past, a.selfBias));
  let selfScores = b.matmul(qs, b.transpose(k, [0, 1, 3, 2]));
  if (a.selfBias) selfScores = b.add(selfScores, a.selfBias);
  let out: Value;
  if (a.past) {
    let pastScores = b.add(rowScores(b, a.past.k, qs), a.past.bias);
    const selection = a.past.select?.(qs, k);
    if (selection) {
      pastScores = b.add(pastScores, selection.past);
      selfScores = b.add(selfScores, selection.self);
    }
    const joined = b.softmax(b.concat([pastScores, selfScores], -1), -1);
    const pastLen = b.op1('Shape', [a.past.v], {});
    // Split the probabilities at C (the past length, known only at run time).
    const c = b.slice(pastLen, [2], [3], [0]);
    const [pPast, pSelf] = splitAt(b, joined, c);
    out = b.add(b.matmul(pPast, a.past.v), b.matmul(pSelf, v));
  } else {
    out = b.matmul(b.softmax(selfScores, -1), v);
  }
  return project(out);
}

/** Scores over [past keys, new keys] in one MatMul; returns [B, H, T, Dh]. */
function joinedKeysAttention(b: GraphBuilder, q: Value, k: Value, v: Value, past: AttentionPast, selfBias: Value | null): Value {
  if (!selfBias) throw new Error('joined-keys attention needs a self bias');
  const keys = b.concat([past.k, k], 2); // [B, H, C + T, Dh]
  const values = b.concat([past.v, v], 2); // [B, H, C + T, Dh]
  // The self bias [1, 1, T, T] broadcasts over the batch; Concat needs it spelled out.
  const batchDims = b.slice(b.op1('Shape', [past.bias]), [0], [3], [0]);
  const selfCols = b.slice(b.op1('Shape', [selfBias]), [3], [4], [0]);
  const fullSelf = b.op1('Expand', [selfBias, b.concat([batchDims, selfCols], 0)]);
  let scores = b.add(rowScores(b, keys, q), b.concat([past.bias, fullSelf], -1));
  const selection = past.select?.(q, k);
  if (selection) scores = b.add(scores, b.concat([selection.past, selection.self], -1));
  return b.matmul(b.softmax(scores, -1), values);
}

/** [B, H, T, C] scores of queries [B, H, T, Dh] over keys stored by row [B, H, C, Dh]. */
function rowScores(b: GraphBuilder, keys: Value, q: Value): Value {
  return b.transpose(b.matmul(keys, b.transpose(q, [0, 1, 3, 2])), [0, 1, 3, 2]);
}

/** Splits the last axis of x at a run-time index `at` (a 1-element int64 tensor). */
function splitAt(b: GraphBuilder, x: Value, at: Value): [Value, Value] {
  const zero = b.constI64([0]);
  const big = b.constI64([Number.MAX_SAFE_INTEGER]);
  const axis = b.constI64([-1]);
  const first = b.op1('Slice', [x, zero, at, axis]);
  const second = b.op1('Slice', [x, at, big, axis]);
  return [first, second];
}
