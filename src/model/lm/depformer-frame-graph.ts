import type { WeightSource } from '../checkpoint/weights.js';
import { sampleTokens, type SamplingInputs } from '../graphs/blocks/token-sampling.js';
import { GraphBuilder, type GraphDef, type Value } from '../onnx/graph-builder.js';
import { lmDims, type LmConfig } from './config.js';
import { depformerStep, type DepCache } from './gpu/depformer-graph.js';
import { castTo } from './gpu/ops.js';
import { actType } from './gpu/precision.js';
import type { MatrixWeight, StorageWeights } from './gpu/weights.js';

export const FRAME_IO = {
  hidden: 'hidden',
  textIndex: 'text_index',
  invTemperature: 'inv_temperature',
  rankMask: 'rank_mask',
  topK: 'top_k',
  uniforms: 'uniforms',
  tokens: 'tokens',
} as const;

/**
 * The depformer's whole frame in one graph: the dep_q codebook steps, each
 * sampling its token in the graph (token-sampling.ts) and feeding it to the
 * next. Its per-frame KV cache never leaves the graph. One run per frame
 * instead of dep_q runs with a trip to the host between each: on a GPU every
 * trip drains the device's queue.
 *
 * Inputs:  hidden [B,D] float32 (temporal output), text_index [B] int64 (the
 *          text token's embedding row; "none" mapped to its zero row),
 *          uniforms [B,Q] float32 (one draw per codebook), and the rows'
 *          sampling settings (SamplingInputs: inv_temperature, rank_mask, top_k).
 * Outputs: tokens [B,Q] int32.
 */
export function buildDepformerFrameGraph(cfg: LmConfig, src: WeightSource, store: StorageWeights): GraphDef {
  const d = lmDims(cfg);
  const act = actType(store.precision);
  const Q = d.depQ;
  const b = new GraphBuilder('depformer_frame');
  // Weights shared by several steps (configs without per-step weights) must reach the builder as the same arrays to be stored once.
  const source = memoSource(src);
  const weights = memoStore(store);
  const hidden = castTo(b, b.input(FRAME_IO.hidden, 'float32', ['B', d.dim]), 'float32', act);
  const textIndex = b.input(FRAME_IO.textIndex, 'int64', ['B']);
  const uniforms = b.input(FRAME_IO.uniforms, 'float32', ['B', Q]);
  const sampling: SamplingInputs = {
    invTemperature: b.input(FRAME_IO.invTemperature, 'float32', ['B', 1]),
    rankMask: b.input(FRAME_IO.rankMask, 'float32', ['B', 'K']),
    topK: b.input(FRAME_IO.topK, 'int64', [1]),
  };
  const tokens: Value[] = [];
  let past: DepCache[] | null = null;
  let prev: Value = textIndex;
  for (let k = 0; k < Q; k++) {
    b.scope(`step${k}`, () => {
      const step = depformerStep(b, cfg, source, weights, k, hidden, prev, past);
      past = step.present;
      const token = sampleTokens(b, step.logits, b.slice(uniforms, [k], [k + 1], [1]), sampling);
      tokens.push(b.unsqueeze(token, [1]));
      prev = token;
    });
  }
  b.output(tokens.length === 1 ? tokens[0]! : b.concat(tokens, 1), FRAME_IO.tokens, 'int32', ['B', Q]);
  return b.build();
}

function memoSource(src: WeightSource): WeightSource {
  const seen = new Map<string, Float32Array>();
  return {
    label: src.label,
    has: (name) => src.has(name),
    get: (name, shape) => {
      const key = `${name}:${shape.join('x')}`;
      let v = seen.get(key);
      if (!v) seen.set(key, (v = src.get(name, shape)));
      return v;
    },
  };
}

function memoStore(store: StorageWeights): StorageWeights {
  const matrices = new Map<string, MatrixWeight>();
  const tables = new Map<string, Float32Array | Uint16Array>();
  return {
    precision: store.precision,
    matrix: (name, out, inp, read) => {
      let m = matrices.get(name);
      if (!m) matrices.set(name, (m = store.matrix(name, out, inp, read)));
      return m;
    },
    table: (name, rows, dim, read) => {
      let t = tables.get(name);
      if (!t) tables.set(name, (t = store.table(name, rows, dim, read)));
      return t;
    },
  };
}
