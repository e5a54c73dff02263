import type { WeightSource } from '../checkpoint/weights.js';
import { GraphBuilder, type GraphDef, type Value } from '../onnx/graph-builder.js';
import { linear } from '../graphs/blocks/linear.js';
import { lmDims, type LmConfig } from './config.js';
import { embedTokens } from './embeddings.js';
import { normWeights } from './weight-names.js';
import { applyNorm, transformerLayer } from './transformer-layer.js';

/**
 * The temporal transformer for a batch of sessions, T new frames per row (1
 * when streaming, more for prefill), each row at its own position.
 *
 * Inputs:  tokens [B,T,S] int64 (embedding-table rows, see embeddings.ts),
 *          rope_cos / rope_sin [B,1,T,Dh/2,1], past_bias [B,1,T,C], self_bias [1,1,T,T],
 *          past_k_{l} [B,H,C,Dh], past_v_{l} [B,H,C,Dh] for each layer.
 * Outputs: hidden [B,T,D] (after out_norm, the depformer's input),
 *          text_logits [B,T,text_card], new_k_{l} / new_v_{l} [B,H,T,Dh].
 */
export function buildTemporalGraph(cfg: LmConfig, src: WeightSource): GraphDef {
  const d = lmDims(cfg);
  const b = new GraphBuilder('temporal');
  const C = cfg.context;
  const tokens = b.input('tokens', 'int64', ['B', 'T', d.streams]);
  const cos = b.input('rope_cos', 'float32', ['B', 1, 'T', d.dimPerHead / 2, 1]);
  const sin = b.input('rope_sin', 'float32', ['B', 1, 'T', d.dimPerHead / 2, 1]);
  const pastBias = b.input('past_bias', 'float32', ['B', 1, 'T', C]);
  const selfBias = b.input('self_bias', 'float32', [1, 1, 'T', 'T']);

  let x: Value = embedTokens(b, src, d, tokens);

  for (let l = 0; l < d.layers; l++) {
    const pastK = b.input(`past_k_${l}`, 'float32', ['B', d.heads, C, d.dimPerHead]);
    const pastV = b.input(`past_v_${l}`, 'float32', ['B', d.heads, C, d.dimPerHead]);
    const r = transformerLayer(b, src, {
      prefix: `transformer.layers.${l}`, dim: d.dim, heads: d.heads, ffnHidden: d.ffnHidden,
      norm: cfg.norm, gating: cfg.gating, layerScale: cfg.layer_scale !== null, step: 0, steps: 1, perStep: false,
    }, x, { k: pastK, v: pastV, bias: pastBias }, selfBias, { cos, sin });
    x = r.out;
    b.output(r.newK, `new_k_${l}`, 'float32', ['B', d.heads, 'T', d.dimPerHead]);
    b.output(r.newV, `new_v_${l}`, 'float32', ['B', d.heads, 'T', d.dimPerHead]);
  }
  const hidden = applyNorm(b, x, 'out_norm', normWeights(src, 'out_norm', cfg.norm, d.dim));
  b.output(hidden, 'hidden', 'float32', ['B', 'T', d.dim]);
  const logits = linear(b, hidden, 'text_linear', src.get('text_linear.weight', [d.textCard, d.dim]), d.textCard, d.dim);
  b.output(logits, 'text_logits', 'float32', ['B', 'T', d.textCard]);
  return b.build();
}
