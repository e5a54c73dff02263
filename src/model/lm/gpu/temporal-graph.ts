import type { WeightSource } from '../../checkpoint/weights.js';
import { GraphBuilder, type GraphDef } from '../../onnx/graph-builder.js';
import { lmDims, type LmConfig } from '../config.js';
import { embeddingLayout } from '../embeddings.js';
import { normWeights } from '../weight-names.js';
import { gpuLayer, type LayerContext } from './layer.js';
import { foldGroupOf, foldGroupsFor } from './cache-book.js';
import { castTo, residualNorm, storedLinear, type Residual } from './ops.js';
import { actType } from './precision.js';
import type { StorageWeights } from './weights.js';

export const TEMPORAL_IO = {
  /** The attention bias of fold group g (cache-book.ts: foldGroupOf). */
  bias: (g: number) => `bias_${g}`,
  bigK: (l: number) => `big_k_${l}`,
  bigV: (l: number) => `big_v_${l}`,
  winK: (l: number) => `win_k_${l}`,
  winV: (l: number) => `win_v_${l}`,
  winKOut: (l: number) => `win_k_out_${l}`,
  winVOut: (l: number) => `win_v_out_${l}`,
};

/**
 * The temporal transformer for one frame per row with its KV cache on the
 * device. Each layer's cache is a large ring `big` [.., C] that the graph
 * only reads, plus a window of the last N frames that the graph returns
 * shifted by one with the new frame appended: only the window is copied per
 * step; the runner folds it into the ring every N steps (cache-graphs.ts).
 *
 * Inputs:  tokens [B,1,S] int64, rope_cos / rope_sin [B,1,1,Dh/2,1], bias_{g} [B,1,1,C+N]
 *          (float32; 0 visible, -inf hidden; the window's last slot is the new frame;
 *          one per fold group: the layers of a group fold together, groups on different steps),
 *          ring_len [1] int64 (C), row_ids [B,1] int64 (0..B-1, RoPE's table rows),
 *          big_k_{l} [B,H,Dh,C], big_v_{l} [B,H,C,Dh], win_k_{l} [B,H,Dh,N], win_v_{l} [B,H,N,Dh]
 *          (activation dtype; C is free).
 * Outputs: hidden [B,D], text_logits [B,text_card] (float32),
 *          win_k_out_{l}, win_v_out_{l} (the next window).
 */
export function buildGpuTemporalGraph(cfg: LmConfig, src: WeightSource, store: StorageWeights, window: number, foldGroups = foldGroupsFor(cfg.num_layers, window)): GraphDef {
  const d = lmDims(cfg);
  const act = actType(store.precision);
  const N = window;
  const b = new GraphBuilder('temporal_gpu');
  const tokens = b.input('tokens', 'int64', ['B', 1, d.streams]);
  const table = (name: string) => castTo(b, b.reshape(b.input(name, 'float32', ['B', 1, 1, d.dimPerHead / 2, 1]), [0, d.dimPerHead / 2]), 'float32', act);
  const cos = table('rope_cos');
  const sin = table('rope_sin');
  const rowIds = b.input('row_ids', 'int64', ['B', 1]);
  const biases = Array.from({ length: foldGroups }, (_, g) => castTo(b, b.input(TEMPORAL_IO.bias(g), 'float32', ['B', 1, 1, 'CN']), 'float32', act));
  // C as an input: a Shape of a device cache could pull the cache to the host (CPU-placed shape ops).
  const ringLen = b.input('ring_len', 'int64', [1]);

  const layout = embeddingLayout(d);
  const embTable = store.table('emb_table', layout.rows, d.dim, () => {
    const t = new Float32Array(layout.rows * d.dim);
    t.set(src.get('text_emb.weight', [d.textCard + 1, d.dim]), 0);
    for (let q = 0; q < d.nQ; q++) t.set(src.get(`emb.${q}.weight`, [d.card + 1, d.dim]), layout.offsets[q + 1]! * d.dim);
    return t;
  });
  const emb = b.gather(b.weight('emb_table', embTable, [layout.rows, d.dim], act), tokens, 0);
  // [B, 1, S, D] summed over the streams (and the one frame): the residual stream is [B, D].
  let x: Residual = { x: castTo(b, b.reduceSum(emb, [1, 2], false), act, 'float32'), pending: null };

  const ctx: LayerContext = { b, src, store, act, rope: { cos, sin, rowIds } };
  for (let l = 0; l < d.layers; l++) {
    const bigK = b.input(TEMPORAL_IO.bigK(l), act, ['B', d.heads, d.dimPerHead, 'C']);
    const bigV = b.input(TEMPORAL_IO.bigV(l), act, ['B', d.heads, 'C', d.dimPerHead]);
    const winK = b.input(TEMPORAL_IO.winK(l), act, ['B', d.heads, d.dimPerHead, N]);
    const winV = b.input(TEMPORAL_IO.winV(l), act, ['B', d.heads, N, d.dimPerHead]);
    const bias = biases[foldGroupOf(l, d.layers, foldGroups)]!;
    x = gpuLayer(ctx, {
      prefix: `transformer.layers.${l}`, dim: d.dim, heads: d.heads, ffnHidden: d.ffnHidden,
      norm: cfg.norm, gating: cfg.gating, layerScale: cfg.layer_scale !== null, step: 0, steps: 1, perStep: false,
    }, x, (q, k, v) => {
      // Shift the window by one and append the new frame: the only per-step cache copy.
      const nextK = b.concat([b.slice(winK, [1], [N], [3]), b.reshape(k, [0, 0, d.dimPerHead, 1])], 3);
      const nextV = b.concat([b.slice(winV, [1], [N], [2]), v], 2);
      b.output(nextK, TEMPORAL_IO.winKOut(l), act, ['B', d.heads, d.dimPerHead, N]);
      b.output(nextV, TEMPORAL_IO.winVOut(l), act, ['B', d.heads, N, d.dimPerHead]);
      const p = b.softmax(b.add(b.concat([b.matmul(q, bigK), b.matmul(q, nextK)], -1), bias), -1);
      // Split the probabilities at C (the ring's length, known only at run time).
      const pBig = b.op1('Slice', [p, b.constI64([0]), ringLen, b.constI64([-1])]);
      const pWin = b.op1('Slice', [p, ringLen, b.constI64([Number.MAX_SAFE_INTEGER]), b.constI64([-1])]);
      return b.add(b.matmul(pBig, bigV), b.matmul(pWin, nextV));
    });
  }
  const hidden = residualNorm(b, x, 'out_norm', normWeights(src, 'out_norm', cfg.norm, d.dim)).normed;
  b.output(hidden, 'hidden', 'float32', ['B', d.dim]);
  const wText = store.matrix('text_linear', d.textCard, d.dim, () => src.get('text_linear.weight', [d.textCard, d.dim]));
  const logits = castTo(b, storedLinear(b, castTo(b, hidden, 'float32', act), 'text_linear', wText, d.textCard, d.dim, act), act, 'float32');
  b.output(logits, 'text_logits', 'float32', ['B', d.textCard]);
  return b.build();
}
