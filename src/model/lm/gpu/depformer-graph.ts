import type { WeightSource } from '../../checkpoint/weights.js';
import { GraphBuilder, type GraphDef, type Value } from '../../onnx/graph-builder.js';
import { depWeightIndex, lmDims, type LmConfig } from '../config.js';
import { gpuLayer, type LayerContext } from './layer.js';
import { castTo, settle, storedLinear, type Residual } from './ops.js';
import { actType } from './precision.js';
import type { StorageWeights } from './weights.js';

export const DEP_IO = {
  pastK: (l: number) => `past_k_${l}`,
  pastV: (l: number) => `past_v_${l}`,
  presentK: (l: number) => `present_k_${l}`,
  presentV: (l: number) => `present_v_${l}`,
};

/** Embedding row for "no token" (-1) in depformer step k's table: the extra zero row at the end. */
export function depNoneRow(cfg: LmConfig, k: number): number {
  const d = lmDims(cfg);
  return (k === 0 ? d.textCard : d.card) + 1;
}

export interface DepCache {
  /** [B,H,Dh,k] */
  k: Value;
  /** [B,H,k,Dh] */
  v: Value;
}

/**
 * Depformer codebook step k for one frame: embeds `prev` (an embedding row of
 * step k's table), runs the layers with attention over `past` (the frame's
 * k earlier steps per layer; none for k = 0) and returns the codebook's
 * logits [B,card] (float32) and each layer's cache with this step appended.
 * Shared by the per-step graph and the frame graph.
 */
export function depformerStep(b: GraphBuilder, cfg: LmConfig, src: WeightSource, store: StorageWeights, k: number, hidden: Value, prev: Value, past: DepCache[] | null): { logits: Value; present: DepCache[] } {
  const d = lmDims(cfg);
  const act = actType(store.precision);
  const w = depWeightIndex(cfg, k);
  const inIndex = cfg.depformer_multi_linear ? w : 0;
  const wIn = store.matrix(`depformer_in.${inIndex}`, d.depDim, d.dim, () => src.get(`depformer_in.${inIndex}.weight`, [d.depDim, d.dim]));
  const proj = storedLinear(b, hidden, 'depformer_in', wIn, d.depDim, d.dim, act);
  const embName = k === 0 ? 'depformer_text_emb.weight' : `depformer_emb.${k - 1}.weight`;
  // An extra zero row at depNoneRow for "no token" (callers map -1 to it).
  const embRows = depNoneRow(cfg, k);
  const table = store.table(embName, embRows + 1, d.depDim, () => {
    const t = new Float32Array((embRows + 1) * d.depDim);
    t.set(src.get(embName, [embRows, d.depDim]), 0);
    return t;
  });
  const tok = b.gather(b.weight('emb', table, [embRows + 1, d.depDim], act), prev, 0);
  let x: Residual = { x: b.add(proj, tok), pending: null }; // [B, depDim]

  const ctx: LayerContext = { b, src, store, act, rope: null };
  const perStep = cfg.depformer_weights_per_step;
  const Dh = d.depDimPerHead;
  const present: DepCache[] = [];
  for (let l = 0; l < d.depLayers; l++) {
    const before = past?.[l] ?? null;
    x = gpuLayer(ctx, {
      prefix: `depformer.layers.${l}`, dim: d.depDim, heads: d.depHeads, ffnHidden: d.depFfnHidden,
      norm: cfg.norm, gating: cfg.depformer_gating, layerScale: cfg.depformer_layer_scale !== null,
      step: perStep ? w : 0, steps: perStep ? d.depWeightSets : 1, perStep,
    }, x, (q, kk, v) => {
      const newK = b.reshape(kk, [0, 0, Dh, 1]);
      const cache = before ? { k: b.concat([before.k, newK], 3), v: b.concat([before.v, v], 2) } : { k: newK, v };
      present.push(cache);
      // With no earlier step the softmax over one score is exactly 1.
      if (!before) return v;
      return b.matmul(b.softmax(b.matmul(q, cache.k), -1), cache.v);
    });
  }
  const flat = settle(b, x);
  const wOut = store.matrix(`linears.${k}`, d.card, d.depDim, () => src.get(`linears.${k}.weight`, [d.card, d.depDim]));
  const logits = castTo(b, storedLinear(b, flat, 'linear', wOut, d.card, d.depDim, act), act, 'float32');
  return { logits, present };
}

/**
 * Depformer step k with its per-frame cache on the device: step k reads the
 * k earlier codebook steps' keys/values (exactly k, so nothing is masked) and
 * returns them with its own appended, for step k + 1.
 *
 * Inputs:  hidden [B,D] float32, emb_index [B] int64 (the previous token's
 *          embedding row; -1 mapped to depNoneRow by the caller),
 *          past_k_{l} [B,H,Dh,k], past_v_{l} [B,H,k,Dh] for k > 0.
 * Outputs: logits [B,card] float32; present_k_{l} / present_v_{l} unless k is the last step.
 */
export function buildGpuDepformerGraph(cfg: LmConfig, src: WeightSource, store: StorageWeights, k: number): GraphDef {
  const d = lmDims(cfg);
  const act = actType(store.precision);
  const Dh = d.depDimPerHead;
  const b = new GraphBuilder(`depformer_gpu_${k}`);
  const hidden = castTo(b, b.input('hidden', 'float32', ['B', d.dim]), 'float32', act);
  const index = b.input('emb_index', 'int64', ['B']);
  const past = k === 0 ? null : Array.from({ length: d.depLayers }, (_, l) => ({
    k: b.input(DEP_IO.pastK(l), act, ['B', d.depHeads, Dh, k]),
    v: b.input(DEP_IO.pastV(l), act, ['B', d.depHeads, k, Dh]),
  }));
  const { logits, present } = depformerStep(b, cfg, src, store, k, hidden, index, past);
  if (k < d.depQ - 1) {
    present.forEach((c, l) => {
      b.output(c.k, DEP_IO.presentK(l), act, ['B', d.depHeads, Dh, k + 1]);
      b.output(c.v, DEP_IO.presentV(l), act, ['B', d.depHeads, k + 1, Dh]);
    });
  }
  b.output(logits, 'logits', 'float32', ['B', d.card]);
  return b.build();
}
