import type { GraphBuilder, Value } from '../../onnx/graph-builder.js';

/** Transposes a row-major [rows, cols] matrix. */
export function transpose2d(w: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(w.length);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) out[c * rows + r] = w[r * cols + c]!;
  }
  return out;
}

/**
 * A bias-free torch `nn.Linear` (weight stored [out, in]) applied to the last
 * axis of `x`. The weight is transposed once, at build time, for MatMul.
 */
export function linear(b: GraphBuilder, x: Value, name: string, weight: Float32Array, outDim: number, inDim: number): Value {
  const w = b.weight(name, transpose2d(weight, outDim, inDim), [inDim, outDim]);
  return b.matmul(x, w);
}
