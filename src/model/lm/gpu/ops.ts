import { A, MS_DOMAIN, type DType, type GraphBuilder, type Value } from '../../onnx/graph-builder.js';
import type { NormWeights } from '../weight-names.js';
import { toHalf } from './precision.js';
import type { MatrixWeight } from './weights.js';

/** Inner dimension from which a dense product is split along it (see splitCount). */
export const SPLIT_K_FROM = 2048;

/**
 * How many slices a dense product's inner dimension is cut into: onnxruntime's
 * WebGPU MatMul gives each workgroup one 32-column tile and walks the whole
 * inner dimension, so a decode-shaped product (a few rows) against a
 * 4096 x 12288 weight runs only a few hundred workgroups, far too few to read
 * the weight at the device's bandwidth. Slices of at least 512 run side by
 * side and are summed after. A split costs three more nodes (reshape,
 * transpose, sum), each a dispatch of host time, so a product that would only
 * halve is left whole.
 */
export function splitCount(inp: number): number {
  if (inp < SPLIT_K_FROM) return 1;
  let s = 1;
  while (s < 16 && inp % (2 * s) === 0 && inp / (2 * s) >= 512) s *= 2;
  return s < 4 ? 1 : s;
}

/** `x @ W` for a stored Linear weight; x is [B, inp] in the activation dtype, and so is the result [B, out]. */
export function storedLinear(b: GraphBuilder, x: Value, name: string, w: MatrixWeight, out: number, inp: number, act: DType): Value {
  if (w.kind === 'dense') {
    const S = splitCount(inp);
    if (S === 1) return b.matmul(x, b.weight(name, w.data, [inp, out], act));
    // [inp, out] row-major is [S, inp / S, out]: the same bytes, one batch per slice.
    const slices = b.transpose(b.reshape(x, [0, S, inp / S]), [1, 0, 2]);
    const partial = b.matmul(slices, b.weight(name, w.data, [S, inp / S, out], act));
    // [S, B, out] summed over S is [B, out]: no reshape after the sum.
    return b.reduceSum(partial, [0], false);
  }
  const nb = inp / w.block;
  const packed = b.weight(`${name}.q4`, w.packed, [out, nb, w.block / 2], 'uint8');
  const scales = b.weight(`${name}.scales`, w.scales, [out * nb], act);
  return b.op1('MatMulNBits', [x, packed, scales], { K: A.i(inp), N: A.i(out), bits: A.i(4), block_size: A.i(w.block) }, MS_DOMAIN);
}

/** Casts only when the dtypes differ (float32 graphs need no casts). */
export function castTo(b: GraphBuilder, x: Value, from: DType, to: DType): Value {
  return from === to ? x : b.cast(x, to);
}

/**
 * A norm over the last axis of x (dtype `dt`), as one operator
 * (SimplifiedLayerNormalization is RMSNorm) so a device runs one kernel; it
 * computes in float32 whatever `dt` is (stash_type 1).
 */
export function fusedNorm(b: GraphBuilder, x: Value, name: string, w: NormWeights, dt: DType): Value {
  if (w.kind === 'rms') {
    return b.op1('SimplifiedLayerNormalization', [x, vectorWeight(b, name, w.alpha, dt)], { axis: A.i(-1), epsilon: A.f(w.eps), stash_type: A.i(1) });
  }
  const wt = vectorWeight(b, `${name}.weight`, w.weight, dt);
  const bias = vectorWeight(b, `${name}.bias`, w.bias, dt);
  return b.op1('LayerNormalization', [x, wt, bias], { axis: A.i(-1), epsilon: A.f(w.eps), stash_type: A.i(1) });
}

/** A per-channel vector (norm scales, layer scales) stored in dtype `dt`. */
export function vectorWeight(b: GraphBuilder, name: string, v: Float32Array, dt: DType): Value {
  return dt === 'float16' ? b.weight(name, toHalf(v), [v.length], 'float16') : b.weight(name, v, [v.length]);
}

/**
 * The residual stream between layers: `x` plus an addend not yet added, so
 * that the next norm adds it in the same kernel (SkipSimplifiedLayerNormalization).
 */
export interface Residual {
  x: Value;
  pending: Value | null;
}

/** Adds the pending addend and normalizes: returns the normalized value and the new residual sum (both of dtype `dt`). */
export function residualNorm(b: GraphBuilder, r: Residual, name: string, w: NormWeights, dt: DType): { normed: Value; x: Value } {
  if (!r.pending) return { normed: fusedNorm(b, r.x, name, w, dt), x: r.x };
  if (w.kind !== 'rms') {
    const x = b.add(r.x, r.pending);
    return { normed: fusedNorm(b, x, name, w, dt), x };
  }
  const outs = b.op('SkipSimplifiedLayerNormalization', [r.pending, r.x, vectorWeight(b, name, w.alpha, dt)], { epsilon: A.f(w.eps) }, { outputs: 4, domain: MS_DOMAIN });
  return { normed: outs[0]!, x: outs[3]! };
}

/** The residual sum with nothing pending. */
export function settle(b: GraphBuilder, r: Residual): Value {
  return r.pending ? b.add(r.x, r.pending) : r.x;
}
