import type { WeightSource } from '../checkpoint/weights.js';
import { GraphBuilder, type GraphDef } from '../onnx/graph-builder.js';
import { mimiDims, type MimiConfig } from './config.js';
import { streamingConvTr1d } from './conv-graph.js';
import { IO, type GraphLayout } from './layout.js';
import { quantizerDecodeGraph } from './quantizer-graph.js';
import { seanetGraph } from './seanet-graph.js';
import { seanetDecoderPlan, upsampleSpec } from './seanet-plan.js';
import { StreamStates } from './stream-state.js';
import { transformerGraph, transformerLayout } from './transformer-graph.js';

/**
 * One streaming decode step for a batch of sessions: codes [B, numCodebooks]
 * -> RVQ decode -> learnt upsampling -> decoder transformer -> SEANet decoder
 * -> pcm [B, frameSize].
 */
export function buildDecoderGraph(cfg: MimiConfig, w: WeightSource, numCodebooks: number): { graph: GraphDef; layout: GraphLayout } {
  const dims = mimiDims(cfg);
  const b = new GraphBuilder('mimi_decoder');
  const st = new StreamStates(b);
  const codes = b.input(IO.codesIn, 'int64', ['batch', numCodebooks]);
  const emb = quantizerDecodeGraph(b, w, cfg, codes, numCodebooks);
  let h = { x: b.reshape(emb, [0, dims.dimension, 1]), T: 1 };
  if (dims.resampleStride > 1) h = streamingConvTr1d(b, st, w, upsampleSpec(dims.dimension, dims.resampleStride), h);
  h = transformerGraph(b, w, cfg, 'decoder_transformer', h);
  h = seanetGraph(b, st, w, cfg, seanetDecoderPlan(cfg), h);
  if (h.T !== dims.frameSize) throw new Error(`decoder produced ${h.T} samples per frame, expected ${dims.frameSize}`);
  b.output(b.reshape(h.x, [0, dims.frameSize]), IO.pcmOut, 'float32', ['batch', dims.frameSize]);
  return { graph: b.build(), layout: { states: st.specs, transformer: transformerLayout(cfg, dims.steps) } };
}
