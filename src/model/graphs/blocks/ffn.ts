import type { GraphBuilder, Value } from '../../onnx/graph-builder.js';
import { linear } from './linear.js';

export type Activation = 'silu' | 'gelu' | 'relu' | 'sigmoid' | 'tanh' | 'identity';

export function activation(b: GraphBuilder, x: Value, kind: Activation): Value {
  switch (kind) {
    case 'silu':
      return b.mul(x, b.sigmoid(x));
    case 'gelu': {
      // torch's default (exact) GELU: 0.5 x (1 + erf(x / sqrt 2)).
      const erf = b.op1('Erf', [b.mul(x, b.constF32(Math.SQRT1_2))]);
      return b.mul(b.mul(x, b.constF32(0.5)), b.add(erf, b.constF32(1)));
    }
    case 'relu':
      return b.op1('Relu', [x]);
    case 'sigmoid':
      return b.sigmoid(x);
    case 'tanh':
      return b.op1('Tanh', [x]);
    case 'identity':
      return x;
  }
}

/**
 * Moshi's ActivationGating: linear_in to 2*hidden, act(first half) * second
 * half, linear_out back to dim.
 */
export function gatedFfn(
  b: GraphBuilder, x: Value, name: string,
  w: { linearIn: Float32Array; linearOut: Float32Array }, dim: number, hidden: number, act: Activation,
): Value {
  const h = linear(b, x, `${name}.linear_in`, w.linearIn, 2 * hidden, dim);
  const [gate, up] = b.split(h, [hidden, hidden], -1);
  return linear(b, b.mul(activation(b, gate!, act), up!), `${name}.linear_out`, w.linearOut, dim, hidden);
}

/** The plain transformer FFN: linear2(act(linear1(x))). */
export function plainFfn(
  b: GraphBuilder, x: Value, name: string,
  w: { linear1: Float32Array; linear2: Float32Array }, dim: number, hidden: number, act: Activation,
): Value {
  const h = activation(b, linear(b, x, `${name}.linear1`, w.linear1, hidden, dim), act);
  return linear(b, h, `${name}.linear2`, w.linear2, dim, hidden);
}

/** Moshi's hidden width for a gated FFN of nominal width `dimFeedforward`. */
export function gatedHidden(dim: number, dimFeedforward: number): number {
  return dimFeedforward === 4 * dim ? Math.floor((21 * dim) / 8) : Math.floor((2 * dimFeedforward) / 3);
}
