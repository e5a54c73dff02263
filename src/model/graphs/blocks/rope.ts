import type { GraphBuilder, Value } from '../../onnx/graph-builder.js';

/**
 * Interleaved rotary embedding (pairs [r0, i0, r1, i1, ...]) as Moshi applies
 * it. `cos`/`sin` are [B, 1, T, Dh/2, 1] tables computed on the host for each
 * row's own positions (see rope-tables.ts), shared by all layers.
 */
export function applyRope(b: GraphBuilder, x: Value, cos: Value, sin: Value, dimPerHead: number): Value {
  const pairs = b.reshape(x, [0, 0, 0, dimPerHead / 2, 2]);
  const [re, im] = b.split(pairs, [1, 1], -1);
  const outRe = b.sub(b.mul(re!, cos), b.mul(im!, sin));
  const outIm = b.add(b.mul(re!, sin), b.mul(im!, cos));
  return b.reshape(b.concat([outRe, outIm], -1), [0, 0, 0, dimPerHead]);
}
