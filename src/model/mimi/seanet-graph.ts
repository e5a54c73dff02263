import type { WeightSource } from '../checkpoint/weights.js';
import type { GraphBuilder } from '../onnx/graph-builder.js';
import type { MimiConfig } from './config.js';
import { seanetActivation, streamingConv1d, streamingConvTr1d, type Timed } from './conv-graph.js';
import type { SeanetLayer } from './seanet-plan.js';
import type { StreamStates } from './stream-state.js';

/** Runs a SEANet plan (encoder or decoder) on [B, C, T] with streaming state. */
export function seanetGraph(
  b: GraphBuilder, st: StreamStates, w: WeightSource, cfg: MimiConfig, plan: SeanetLayer[], input: Timed,
): Timed {
  let h = input;
  for (const layer of plan) {
    switch (layer.kind) {
      case 'act':
        h = { x: seanetActivation(b, h.x, cfg), T: h.T };
        break;
      case 'conv':
        h = streamingConv1d(b, st, w, layer, h);
        break;
      case 'convtr':
        h = streamingConvTr1d(b, st, w, layer, h);
        break;
      case 'res': {
        let v = h;
        for (const inner of layer.block) {
          v = inner.kind === 'act' ? { x: seanetActivation(b, v.x, cfg), T: v.T } : streamingConv1d(b, st, w, inner, v);
        }
        const u = layer.shortcut ? streamingConv1d(b, st, w, layer.shortcut, h) : h;
        h = { x: b.add(u.x, v.x), T: h.T };
        break;
      }
    }
  }
  return h;
}
