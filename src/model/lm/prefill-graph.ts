import type { WeightSource } from '../checkpoint/weights.js';
import { GraphBuilder, type Value } from '../onnx/graph-builder.js';
import type { GraphDef } from '../onnx/graph-builder.js';
import type { KeySelector } from '../graphs/blocks/attention.js';
import { linear } from '../graphs/blocks/linear.js';
import { mobaSelection, type MobaBlockInputs } from '../graphs/blocks/moba-selection.js';
import { lmDims, type LmConfig } from './config.js';
import { embedTokens } from './embeddings.js';
import { normWeights } from './weight-names.js';
import { applyNorm, transformerLayer } from './transformer-layer.js';

export interface PrefillGraphOptions {
  /** Adds MoBA's block selection (inputs moba_past_block, moba_new_block, moba_top_k). */
  moba: boolean;
}

/**
 * The temporal transformer as used for prefill: one session's row, T known
 * frames per pass, written into its cache. It is the streaming graph
 * (temporal-graph.ts, same weights and layers) with three differences:
 *  - the past has a run-time length P: a cache that has not wrapped yet is
 *    passed as its filled columns only, so early chunks do not attend over
 *    empty slots;
 *  - only the last frame's hidden state and text logits come out (the text
 *    head is a large MatMul that would otherwise run for every frame);
 *  - optionally, MoBA block-sparse selection (graphs/blocks/moba-selection.ts).
 *
 * Inputs:  tokens [1,T,S] int64, rope_cos / rope_sin [1,1,T,Dh/2,1],
 *          past_bias [1,1,T,P], self_bias [1,1,T,T],
 *          past_k_{l} [1,H,P,Dh], past_v_{l} [1,H,P,Dh],
 *          with MoBA: moba_past_block [1,P], moba_new_block [1,T], moba_top_k [1] (int64).
 * Outputs: hidden [1,1,D], text_logits [1,1,text_card] (last frame),
 *          new_k_{l} / new_v_{l} [1,H,T,Dh].
 */
export function buildPrefillGraph(cfg: LmConfig, src: WeightSource, opts: PrefillGraphOptions): GraphDef {
  const d = lmDims(cfg);
  const b = new GraphBuilder(opts.moba ? 'prefill_moba' : 'prefill');
  const tokens = b.input('tokens', 'int64', [1, 'T', d.streams]);
  const cos = b.input('rope_cos', 'float32', [1, 1, 'T', d.dimPerHead / 2, 1]);
  const sin = b.input('rope_sin', 'float32', [1, 1, 'T', d.dimPerHead / 2, 1]);
  const pastBias = b.input('past_bias', 'float32', [1, 1, 'T', 'P']);
  const selfBias = b.input('self_bias', 'float32', [1, 1, 'T', 'T']);
  const blocks: MobaBlockInputs | null = opts.moba
    ? {
        pastBlock: b.input('moba_past_block', 'int64', [1, 'P']),
        newBlock: b.input('moba_new_block', 'int64', [1, 'T']),
        topK: b.input('moba_top_k', 'int64', [1]),
      }
    : null;

  let x: Value = embedTokens(b, src, d, tokens);

  for (let l = 0; l < d.layers; l++) {
    const pastK = b.input(`past_k_${l}`, 'float32', [1, d.heads, 'P', d.dimPerHead]);
    const pastV = b.input(`past_v_${l}`, 'float32', [1, d.heads, 'P', d.dimPerHead]);
    const select: KeySelector | undefined = blocks
      ? (q, newK) => mobaSelection(b, { blocks, pastK, q, newK })
      : undefined;
    const r = transformerLayer(b, src, {
      prefix: `transformer.layers.${l}`, dim: d.dim, heads: d.heads, ffnHidden: d.ffnHidden,
      norm: cfg.norm, gating: cfg.gating, layerScale: cfg.layer_scale !== null, step: 0, steps: 1, perStep: false,
    }, x, { k: pastK, v: pastV, bias: pastBias, select, joinKeys: true }, selfBias, { cos, sin });
    x = r.out;
    b.output(r.newK, `new_k_${l}`, 'float32', [1, d.heads, 'T', d.dimPerHead]);
    b.output(r.newV, `new_v_${l}`, 'float32', [1, d.heads, 'T', d.dimPerHead]);
  }
  const last = b.slice(x, [-1], [Number.MAX_SAFE_INTEGER], [1]);
  const hidden = applyNorm(b, last, 'out_norm', normWeights(src, 'out_norm', cfg.norm, d.dim));
  b.output(hidden, 'hidden', 'float32', [1, 1, d.dim]);
  const logits = linear(b, hidden, 'text_linear', src.get('text_linear.weight', [d.textCard, d.dim]), d.textCard, d.dim);
  b.output(logits, 'text_logits', 'float32', [1, 1, d.textCard]);
  return b.build();
}
