import type { WeightSource } from '../checkpoint/weights.js';
import { GraphBuilder, type GraphDef } from '../onnx/graph-builder.js';
import { mimiDims, type MimiConfig } from './config.js';
import { streamingConv1d } from './conv-graph.js';
import { IO, type GraphLayout } from './layout.js';
import { quantizerEncodeGraph } from './quantizer-graph.js';
import { seanetGraph } from './seanet-graph.js';
import { downsampleSpec, seanetEncoderPlan } from './seanet-plan.js';
import { StreamStates } from './stream-state.js';
import { transformerGraph, transformerLayout } from './transformer-graph.js';

/**
 * One streaming encode step for a batch of sessions: pcm [B, frameSize] ->
 * SEANet encoder -> encoder transformer (the frame's T latent steps) ->
 * learnt downsampling -> split RVQ -> codes [B, numCodebooks] int64.
 */
export function buildEncoderGraph(cfg: MimiConfig, w: WeightSource, numCodebooks: number): { graph: GraphDef; layout: GraphLayout } {
  const dims = mimiDims(cfg);
  const b = new GraphBuilder('mimi_encoder');
  const st = new StreamStates(b);
  const pcm = b.input(IO.pcmIn, 'float32', ['batch', dims.frameSize]);
  let h = seanetGraph(b, st, w, cfg, seanetEncoderPlan(cfg), { x: b.reshape(pcm, [0, 1, dims.frameSize]), T: dims.frameSize });
  h = transformerGraph(b, w, cfg, 'encoder_transformer', h);
  if (dims.resampleStride > 1) h = streamingConv1d(b, st, w, downsampleSpec(dims.dimension, dims.resampleStride), h);
  if (h.T !== 1) throw new Error(`encoder produced ${h.T} latent steps per frame, expected 1`);
  const emb = b.reshape(h.x, [0, dims.dimension]);
  const codes = quantizerEncodeGraph(b, w, cfg, emb, numCodebooks);
  b.output(codes, IO.codesOut, 'int64', ['batch', numCodebooks]);
  return { graph: b.build(), layout: { states: st.specs, transformer: transformerLayout(cfg, dims.steps) } };
}
