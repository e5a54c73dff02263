import { A, type GraphBuilder, type Value } from '../../onnx/graph-builder.js';

/** Moshi's RMSNorm: x * (alpha * rsqrt(eps + mean(x^2))) over the last axis. */
export function rmsNorm(b: GraphBuilder, x: Value, name: string, alpha: Float32Array, eps: number): Value {
  const a = b.weight(name, alpha, [alpha.length]);
  const variance = b.add(b.reduceMean(b.mul(x, x), [-1]), b.constF32(eps));
  const inv = b.op1('Reciprocal', [b.op1('Sqrt', [variance])]);
  return b.mul(x, b.mul(a, inv));
}

/** torch.nn.LayerNorm over the last axis. */
export function layerNorm(b: GraphBuilder, x: Value, name: string, weight: Float32Array, bias: Float32Array, eps: number): Value {
  const w = b.weight(`${name}.weight`, weight, [weight.length]);
  const bb = b.weight(`${name}.bias`, bias, [bias.length]);
  return b.op1('LayerNormalization', [x, w, bb], { axis: A.i(-1), epsilon: A.f(eps) });
}
