import { depWeightIndex, lmDims, type LmConfig } from './lm/config.js';
import { mimiDims, type MimiConfig } from './mimi/config.js';
import { downsampleSpec, seanetDecoderPlan, seanetEncoderPlan, upsampleSpec, type ConvSpec, type ConvTrSpec, type SeanetLayer } from './mimi/seanet-plan.js';

// Arithmetic per session per 80 ms frame (multiply-adds count 2), counted
// from the same layer descriptions the graph builders use. Attention is
// counted over the full context window, which is what every step reads.

export interface FrameFlops {
  temporal: number;
  depformer: number;
  encode: number;
  decode: number;
  total: number;
}

/** Weights of one layer's products: q, k, v and output projections, and the FFN (gated: two inputs and an output). */
function layerProductParams(dim: number, ffnHidden: number, gated: boolean): number {
  return 4 * dim * dim + (gated ? 3 : 2) * dim * ffnHidden;
}

function transformerLayerFlops(dim: number, ffnHidden: number, gated: boolean, keys: number): number {
  const attn = 2 * 2 * keys * dim;
  return 2 * layerProductParams(dim, ffnHidden, gated) + attn;
}

export function lmFrameFlops(c: LmConfig): { temporal: number; depformer: number } {
  const d = lmDims(c);
  const temporal = d.layers * transformerLayerFlops(d.dim, d.ffnHidden, true, c.context) + 2 * d.dim * d.textCard;
  let depformer = 0;
  for (let k = 0; k < d.depQ; k++) {
    void depWeightIndex(c, k); // every step runs the same shapes, whatever weight set it uses
    depformer += 2 * d.dim * d.depDim + d.depLayers * transformerLayerFlops(d.depDim, d.depFfnHidden, true, k + 1) + 2 * d.depDim * d.card;
  }
  return { temporal, depformer };
}

function convFlops(spec: ConvSpec | ConvTrSpec, inLen: number): { flops: number; outLen: number } {
  if (spec.kind === 'conv') {
    const outLen = inLen / spec.stride;
    return { flops: 2 * (spec.inCh / spec.groups) * spec.outCh * spec.kernel * outLen, outLen };
  }
  const outLen = inLen * spec.stride;
  return { flops: 2 * spec.inCh * (spec.outCh / spec.groups) * spec.kernel * inLen, outLen };
}

function seanetFlops(plan: SeanetLayer[], len: number): { flops: number; outLen: number } {
  let flops = 0;
  for (const l of plan) {
    if (l.kind === 'conv' || l.kind === 'convtr') {
      const r = convFlops(l, len);
      flops += r.flops;
      len = r.outLen;
    } else if (l.kind === 'res') {
      for (const b of l.block) if (b.kind === 'conv') flops += convFlops(b, len).flops;
      if (l.shortcut) flops += convFlops(l.shortcut, len).flops;
    }
  }
  return { flops, outLen: len };
}

export function mimiFrameFlops(c: MimiConfig, numCodebooks: number): { encode: number; decode: number } {
  const m = mimiDims(c);
  const t = c.transformer;
  const tr = m.layers * transformerLayerFlops(m.dModel, t.dim_feedforward, false, m.context) * m.steps;
  const enc = seanetFlops(seanetEncoderPlan(c), m.frameSize);
  const down = m.resampleStride > 1 ? convFlops(downsampleSpec(m.dimension, m.resampleStride), m.steps).flops : 0;
  const dec = seanetFlops(seanetDecoderPlan(c), m.steps);
  const up = m.resampleStride > 1 ? convFlops(upsampleSpec(m.dimension, m.resampleStride), 1).flops : 0;
  // Split RVQ: input projections, then a nearest-codebook search per codebook.
  const rvq = 2 * 2 * m.dimension * m.codebookDim + numCodebooks * 2 * m.cardinality * m.codebookDim;
  const rvqDecode = 2 * 2 * m.dimension * m.codebookDim + numCodebooks * m.codebookDim;
  return { encode: enc.flops + tr + down + rvq, decode: dec.flops + tr + up + rvqDecode };
}

export function frameFlops(lm: LmConfig, mimi: MimiConfig): FrameFlops {
  const l = lmFrameFlops(lm);
  const m = mimiFrameFlops(mimi, lm.dep_q);
  return { ...l, ...m, total: l.temporal + l.depformer + m.encode + m.decode };
}

/**
 * Bytes one LM step reads at float32: the weights of its products, read once
 * per batched step (the depformer's as if each codebook step had its own,
 * as with weights_per_step), and each session's temporal KV window, which
 * attention reads whole every step. On a CPU these, over the memory
 * bandwidth, are the floor of a batched LM step.
 */
export function lmStepBytes(c: LmConfig): { weights: number; kvPerSession: number } {
  const d = lmDims(c);
  const temporal = d.layers * layerProductParams(d.dim, d.ffnHidden, true) + d.dim * d.textCard;
  const depformer = d.depQ * (d.dim * d.depDim + d.depLayers * layerProductParams(d.depDim, d.depFfnHidden, true) + d.depDim * d.card);
  return { weights: 4 * (temporal + depformer), kvPerSession: 4 * d.layers * 2 * c.context * d.dim };
}
