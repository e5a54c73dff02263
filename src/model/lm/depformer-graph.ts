import type { WeightSource } from '../checkpoint/weights.js';
import { GraphBuilder, type GraphDef, type Value } from '../onnx/graph-builder.js';
import { linear } from '../graphs/blocks/linear.js';
import { depWeightIndex, lmDims, type LmConfig } from './config.js';
import { transformerLayer } from './transformer-layer.js';

/**
 * Depformer step for codebook k, for a batch of sessions. Its KV cache holds
 * the frame's earlier codebook steps (capacity dep_q, restarted every frame),
 * so every step graph has the same inputs and the bias hides unfilled slots.
 *
 * Inputs:  hidden [B,D] (temporal output), prev_token [B] int64 (the text token
 *          for k = 0, else audio token k-1; -1 for none), past_bias [B,1,1,Q],
 *          past_k_{l} [B,H,Q,Dh], past_v_{l} [B,H,Q,Dh].
 * Outputs: logits [B,card], new_k_{l} / new_v_{l} [B,H,1,Dh].
 */
export function buildDepformerGraph(cfg: LmConfig, src: WeightSource, k: number): GraphDef {
  const d = lmDims(cfg);
  const Q = d.depQ;
  const w = depWeightIndex(cfg, k);
  const b = new GraphBuilder(`depformer_${k}`);
  const hidden = b.input('hidden', 'float32', ['B', d.dim]);
  const prev = b.input('prev_token', 'int64', ['B']);
  const pastBias = b.input('past_bias', 'float32', ['B', 1, 1, Q]);

  const inIndex = cfg.depformer_multi_linear ? w : 0;
  const proj = linear(b, hidden, 'depformer_in', src.get(`depformer_in.${inIndex}.weight`, [d.depDim, d.dim]), d.depDim, d.dim);
  // Embedding with an extra zero row at the end for the "no token" id -1.
  const embName = k === 0 ? 'depformer_text_emb.weight' : `depformer_emb.${k - 1}.weight`;
  const embRows = (k === 0 ? d.textCard : d.card) + 1;
  const table = new Float32Array((embRows + 1) * d.depDim);
  table.set(src.get(embName, [embRows, d.depDim]), 0);
  const isNone = b.op1('Less', [prev, b.constI64(0)]);
  const idx = b.op1('Where', [isNone, b.constI64(embRows), prev]);
  const tok = b.gather(b.weight('emb', table, [embRows + 1, d.depDim]), idx, 0);
  let x: Value = b.unsqueeze(b.add(proj, tok), [1]); // [B, 1, depDim]

  const perStep = cfg.depformer_weights_per_step;
  for (let l = 0; l < d.depLayers; l++) {
    const pastK = b.input(`past_k_${l}`, 'float32', ['B', d.depHeads, Q, d.depDimPerHead]);
    const pastV = b.input(`past_v_${l}`, 'float32', ['B', d.depHeads, Q, d.depDimPerHead]);
    const r = transformerLayer(b, src, {
      prefix: `depformer.layers.${l}`, dim: d.depDim, heads: d.depHeads, ffnHidden: d.depFfnHidden,
      norm: cfg.norm, gating: cfg.depformer_gating, layerScale: cfg.depformer_layer_scale !== null,
      step: perStep ? w : 0, steps: perStep ? d.depWeightSets : 1, perStep,
    }, x, { k: pastK, v: pastV, bias: pastBias }, null, null);
    x = r.out;
    b.output(r.newK, `new_k_${l}`, 'float32', ['B', d.depHeads, 1, d.depDimPerHead]);
    b.output(r.newV, `new_v_${l}`, 'float32', ['B', d.depHeads, 1, d.depDimPerHead]);
  }
  const flat = b.squeeze(x, [1]);
  const logits = linear(b, flat, 'linear', src.get(`linears.${k}.weight`, [d.card, d.depDim]), d.card, d.depDim);
  b.output(logits, 'logits', 'float32', ['B', d.card]);
  return b.build();
}
