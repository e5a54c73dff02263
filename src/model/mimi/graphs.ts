import type { WeightSource } from '../checkpoint/weights.js';
import type { GraphDef } from '../onnx/graph-builder.js';
import { mimiDims, type MimiConfig } from './config.js';
import { buildDecoderGraph } from './decoder-graph.js';
import { buildEncoderGraph } from './encoder-graph.js';
import type { MimiLayout } from './layout.js';

export interface MimiGraphs {
  encoder: GraphDef;
  decoder: GraphDef;
  layout: MimiLayout;
}

/**
 * Builds Mimi's streaming encoder and decoder graphs for `numCodebooks`
 * codebooks (Moshi uses the LM's dep_q = 8 of the quantizer's n_q).
 */
export function buildMimiGraphs(cfg: MimiConfig, weights: WeightSource, numCodebooks: number): MimiGraphs {
  const dims = mimiDims(cfg);
  if (!Number.isInteger(numCodebooks) || numCodebooks < 1 || numCodebooks > dims.totalCodebooks) {
    throw new Error(`numCodebooks must be an integer in [1, ${dims.totalCodebooks}], got ${numCodebooks}`);
  }
  const enc = buildEncoderGraph(cfg, weights, numCodebooks);
  const dec = buildDecoderGraph(cfg, weights, numCodebooks);
  return {
    encoder: enc.graph,
    decoder: dec.graph,
    layout: {
      version: 1,
      sampleRate: cfg.sample_rate,
      frameRate: cfg.frame_rate,
      frameSize: dims.frameSize,
      numCodebooks,
      cardinality: dims.cardinality,
      encoder: enc.layout,
      decoder: dec.layout,
    },
  };
}
