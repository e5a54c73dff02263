import type { WeightSource } from '../checkpoint/weights.js';
import type { GraphBuilder, Value } from '../onnx/graph-builder.js';
import { attention, type AttentionPast } from '../graphs/blocks/attention.js';
import { gatedFfn, type Activation } from '../graphs/blocks/ffn.js';
import { layerNorm, rmsNorm } from '../graphs/blocks/norms.js';
import { normWeights, projection, type NormWeights } from './weight-names.js';

export interface LayerSpec {
  /** Tensor name prefix, e.g. `transformer.layers.3`. */
  prefix: string;
  dim: number;
  heads: number;
  ffnHidden: number;
  norm: string;
  gating: Activation;
  layerScale: boolean;
  /** Weight set used for this step (weights_per_step), and how many there are. */
  step: number;
  steps: number;
  /** Whether the layer stores one FFN per step (`gating.{i}`), as the depformer does. */
  perStep: boolean;
}

export function applyNorm(b: GraphBuilder, x: Value, name: string, w: NormWeights): Value {
  return w.kind === 'rms' ? rmsNorm(b, x, name, w.alpha, w.eps) : layerNorm(b, x, name, w.weight, w.bias, w.eps);
}

/**
 * One Moshi transformer layer (pre-norm attention + gated FFN, optional layer
 * scale), over an external KV cache. Returns the layer output and the new
 * keys/values to store.
 */
export function transformerLayer(
  b: GraphBuilder, src: WeightSource, s: LayerSpec, x: Value,
  past: AttentionPast | null, selfBias: Value | null, rope: { cos: Value; sin: Value } | null,
): { out: Value; newK: Value; newV: Value } {
  return b.scope(s.prefix, () => {
    const n1 = applyNorm(b, x, 'norm1', normWeights(src, `${s.prefix}.norm1`, s.norm, s.dim));
    const attnPrefix = `${s.prefix}.self_attn`;
    const att = attention(b, {
      name: 'self_attn',
      x: n1,
      dim: s.dim,
      heads: s.heads,
      inProj: projection(src, attnPrefix, 'in', s.step, s.steps, 3 * s.dim, s.dim),
      outProj: projection(src, attnPrefix, 'out', s.step, s.steps, s.dim, s.dim),
      past,
      selfBias,
      rope,
    });
    const scaled1 = s.layerScale ? b.mul(att.out, b.weight('ls1', src.get(`${s.prefix}.layer_scale_1.scale`, [s.dim]), [s.dim])) : att.out;
    const h = b.add(x, scaled1);
    const n2 = applyNorm(b, h, 'norm2', normWeights(src, `${s.prefix}.norm2`, s.norm, s.dim));
    const gp = s.perStep ? `${s.prefix}.gating.${s.step}` : `${s.prefix}.gating`;
    const ff = gatedFfn(b, n2, 'gating', {
      linearIn: src.get(`${gp}.linear_in.weight`, [2 * s.ffnHidden, s.dim]),
      linearOut: src.get(`${gp}.linear_out.weight`, [s.dim, s.ffnHidden]),
    }, s.dim, s.ffnHidden, s.gating);
    const scaled2 = s.layerScale ? b.mul(ff, b.weight('ls2', src.get(`${s.prefix}.layer_scale_2.scale`, [s.dim]), [s.dim])) : ff;
    return { out: b.add(h, scaled2), newK: att.newK, newV: att.newV };
  });
}
