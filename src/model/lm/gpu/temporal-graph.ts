import type { WeightSource } from '../../checkpoint/weights.js';
import { A, GraphBuilder, type GraphDef } from '../../onnx/graph-builder.js';
import { lmDims, type LmConfig } from '../config.js';
import { embeddingLayout } from '../embeddings.js';
import { normWeights } from '../weight-names.js';
import { gpuLayer, type LayerContext } from './layer.js';
import { castTo, residualNorm, storedLinear, type Residual } from './ops.js';
import { actType } from './precision.js';
import type { StorageWeights } from './weights.js';

export const TEMPORAL_IO = {
  ringK: (l: number) => `ring_k_${l}`,
  ringV: (l: number) => `ring_v_${l}`,
  /** The same rings, written in place: the runner fetches them into the buffers it feeds. */
  ringKOut: (l: number) => `ring_k_out_${l}`,
  ringVOut: (l: number) => `ring_v_out_${l}`,
};

/**
 * The temporal transformer for one frame per row with its KV cache on the
 * device. Each layer's cache is a ring of C frames per row that the graph
 * updates in place: ScatterElements writes the new frame's key and value at
 * the row's slot, and the runner passes each ring both as an input and as the
 * preallocated buffer of the matching output. onnxruntime's scatter kernels
 * skip their input-to-output copy when the two are the same buffer (checked
 * on the H100: bench/gpu-capture-probe.ts), so a step writes one frame per
 * row and layer and copies nothing else.
 *
 * Inputs:  tokens [B,1,S] int64, rope_cos / rope_sin [B,1,1,Dh/2,1], row_ids [B,1] int64 (0..B-1, RoPE's table rows),
 *          bias [B,1,1,C] (float32; 0 visible, -inf empty; ring-book.ts), slot [B,1,1,1] int32 (where this frame goes),
 *          ring_k_{l} [B,H,Dh,C], ring_v_{l} [B,H,C,Dh] (activation dtype; C is free).
 * Outputs: hidden [B,D], text_logits [B,text_card] (float32), ring_k_out_{l}, ring_v_out_{l}.
 */
export function buildGpuTemporalGraph(cfg: LmConfig, src: WeightSource, store: StorageWeights): GraphDef {
  const d = lmDims(cfg);
  const act = actType(store.precision);
  const b = new GraphBuilder('temporal_gpu');
  const tokens = b.input('tokens', 'int64', ['B', 1, d.streams]);
  const table = (name: string) => castTo(b, b.reshape(b.input(name, 'float32', ['B', 1, 1, d.dimPerHead / 2, 1]), [0, d.dimPerHead / 2]), 'float32', act);
  const cos = table('rope_cos');
  const sin = table('rope_sin');
  const rowIds = b.input('row_ids', 'int64', ['B', 1]);
  const bias = castTo(b, b.input('bias', 'float32', ['B', 1, 1, 'C']), 'float32', act);
  // int32: onnxruntime's WebGPU provider places int64 Expand on the CPU (measured: a host copy of both index tensors per step).
  const slot = b.input('slot', 'int32', ['B', 1, 1, 1]);
  // Scatter indices, shared by every layer: the row's slot for each key column and value row.
  const slotK = b.op1('Expand', [slot, b.constI64([1, d.heads, d.dimPerHead, 1])]);
  const slotV = b.op1('Expand', [slot, b.constI64([1, d.heads, 1, d.dimPerHead])]);

  const layout = embeddingLayout(d);
  const embTable = store.table('emb_table', layout.rows, d.dim, () => {
    const t = new Float32Array(layout.rows * d.dim);
    t.set(src.get('text_emb.weight', [d.textCard + 1, d.dim]), 0);
    for (let q = 0; q < d.nQ; q++) t.set(src.get(`emb.${q}.weight`, [d.card + 1, d.dim]), layout.offsets[q + 1]! * d.dim);
    return t;
  });
  const emb = b.gather(b.weight('emb_table', embTable, [layout.rows, d.dim], act), tokens, 0);
  // [B, 1, S, D] summed over the streams (and the one frame): the residual stream is [B, D].
  let x: Residual = { x: b.reduceSum(emb, [1, 2], false), pending: null };

  const ctx: LayerContext = { b, src, store, act, rope: { cos, sin, rowIds } };
  for (let l = 0; l < d.layers; l++) {
    const ringK = b.input(TEMPORAL_IO.ringK(l), act, ['B', d.heads, d.dimPerHead, 'C']);
    const ringV = b.input(TEMPORAL_IO.ringV(l), act, ['B', d.heads, 'C', d.dimPerHead]);
    x = gpuLayer(ctx, {
      prefix: `transformer.layers.${l}`, dim: d.dim, heads: d.heads, ffnHidden: d.ffnHidden,
      norm: cfg.norm, gating: cfg.gating, layerScale: cfg.layer_scale !== null, step: 0, steps: 1, perStep: false,
    }, x, (q, k, v) => {
      const keys = b.op1('ScatterElements', [ringK, slotK, b.reshape(k, [0, 0, d.dimPerHead, 1])], { axis: A.i(3) });
      const vals = b.op1('ScatterElements', [ringV, slotV, v], { axis: A.i(2) });
      b.output(keys, TEMPORAL_IO.ringKOut(l), act, ['B', d.heads, d.dimPerHead, 'C']);
      b.output(vals, TEMPORAL_IO.ringVOut(l), act, ['B', d.heads, 'C', d.dimPerHead]);
      return b.matmul(b.softmax(b.add(b.matmul(q, keys), bias), -1), vals);
    });
  }
  const normed = residualNorm(b, x, 'out_norm', normWeights(src, 'out_norm', cfg.norm, d.dim), act).normed;
  b.output(castTo(b, normed, act, 'float32'), 'hidden', 'float32', ['B', d.dim]);
  const wText = store.matrix('text_linear', d.textCard, d.dim, () => src.get('text_linear.weight', [d.textCard, d.dim]));
  const logits = castTo(b, storedLinear(b, normed, 'text_linear', wText, d.textCard, d.dim, act), act, 'float32');
  b.output(logits, 'text_logits', 'float32', ['B', d.textCard]);
  return b.build();
}
