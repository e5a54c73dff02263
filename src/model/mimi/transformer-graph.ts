import type { WeightSource } from '../checkpoint/weights.js';
import { attention } from '../graphs/blocks/attention.js';
import { plainFfn } from '../graphs/blocks/ffn.js';
import { linear } from '../graphs/blocks/linear.js';
import { layerNorm, rmsNorm } from '../graphs/blocks/norms.js';
import type { GraphBuilder, Value } from '../onnx/graph-builder.js';
import { causalBias } from '../runtime/rope-tables.js';
import type { MimiConfig } from './config.js';
import type { Timed } from './conv-graph.js';
import { IO, type TransformerLayout } from './layout.js';

// Mimi's ProjectedTransformer (conv layout, pre-norm layers with LayerScale,
// GELU FFN, interleaved RoPE) over the T steps of one frame. The KV cache
// lives outside the graph (KvRing): past keys/values and their bias come in,
// the new keys/values go out for the runner to store.

/** Attention projection stored split (`in_projs.0.weight`) or stacked (`in_proj_weight`, `in_proj.weight`). */
function projection(w: WeightSource, prefix: string, kind: 'in' | 'out', rows: number, cols: number): Float32Array {
  const split = `${prefix}.${kind}_projs.0.weight`;
  if (w.has(split)) return w.get(split, [rows, cols]);
  const alt = kind === 'in' ? [`${prefix}.in_proj_weight`, `${prefix}.in_proj.weight`] : [`${prefix}.out_proj.weight`];
  for (const name of alt) if (w.has(name)) return w.get(name, [rows, cols]);
  return w.get(split, [rows, cols]);
}

function norm(b: GraphBuilder, w: WeightSource, cfg: MimiConfig, x: Value, name: string): Value {
  const d = cfg.transformer.d_model;
  switch (cfg.transformer.norm) {
    case 'layer_norm':
      return layerNorm(b, x, name, w.get(`${name}.weight`, [d]), w.get(`${name}.bias`, [d]), 1e-5);
    case 'layer_norm_f32':
      return layerNorm(b, x, name, w.get(`${name}.weight`, [d]), w.get(`${name}.bias`, [d]), 1e-8);
    case 'rms_norm':
      return rmsNorm(b, x, name, w.get(`${name}.alpha`, [1, 1, d]), 1e-5);
    case 'rms_norm_f32':
      return rmsNorm(b, x, name, w.get(`${name}.alpha`, [1, 1, d]), 1e-8);
  }
}

export function transformerLayout(cfg: MimiConfig, steps: number): TransformerLayout | null {
  const t = cfg.transformer;
  if (t.num_layers === 0) return null;
  return {
    layers: t.num_layers,
    heads: t.num_heads,
    dimPerHead: t.d_model / t.num_heads,
    context: t.context!,
    steps,
    ropeMaxPeriod: t.positional_embedding === 'rope' ? t.max_period : null,
  };
}

/** `prefix` is `encoder_transformer` or `decoder_transformer`. Input and output are [B, C, T]. */
export function transformerGraph(b: GraphBuilder, w: WeightSource, cfg: MimiConfig, prefix: string, input: Timed): Timed {
  const t = cfg.transformer;
  const layout = transformerLayout(cfg, input.T);
  if (!layout) return input;
  const { heads: H, dimPerHead: Dh, context: C } = layout;
  const T = input.T;
  const D = t.d_model;
  if (T > C) throw new Error(`transformer context ${C} is shorter than one frame (${T} steps)`);

  const rope = layout.ropeMaxPeriod === null ? null : {
    cos: b.input(IO.ropeCos, 'float32', ['batch', 1, T, Dh / 2, 1]),
    sin: b.input(IO.ropeSin, 'float32', ['batch', 1, T, Dh / 2, 1]),
  };
  const pastBias = b.input(IO.pastBias, 'float32', ['batch', 1, T, C]);
  const selfBias = T > 1 ? b.weight('self_bias', causalBias(T), [1, 1, T, T]) : null;

  let x = b.transpose(input.x, [0, 2, 1]);
  if (D !== t.input_dimension) {
    x = linear(b, x, `${prefix}.input_proj`, w.get(`${prefix}.input_proj.weight`, [D, t.input_dimension]), D, t.input_dimension);
  }
  for (let l = 0; l < t.num_layers; l++) {
    const p = `${prefix}.transformer.layers.${l}`;
    const pastK = b.input(IO.pastK(l), 'float32', ['batch', H, C, Dh]);
    const pastV = b.input(IO.pastV(l), 'float32', ['batch', H, C, Dh]);
    const a = attention(b, {
      name: `${p}.self_attn`,
      x: norm(b, w, cfg, x, `${p}.norm1`),
      dim: D,
      heads: H,
      inProj: projection(w, `${p}.self_attn`, 'in', 3 * D, D),
      outProj: projection(w, `${p}.self_attn`, 'out', D, D),
      past: { k: pastK, v: pastV, bias: pastBias },
      selfBias,
      rope,
    });
    b.output(a.newK, IO.newK(l), 'float32', ['batch', H, T, Dh]);
    b.output(a.newV, IO.newV(l), 'float32', ['batch', H, T, Dh]);
    const h = b.add(x, layerScale(b, w, cfg, a.out, `${p}.layer_scale_1`));
    const ff = plainFfn(b, norm(b, w, cfg, h, `${p}.norm2`), p, {
      linear1: w.get(`${p}.linear1.weight`, [t.dim_feedforward, D]),
      linear2: w.get(`${p}.linear2.weight`, [D, t.dim_feedforward]),
    }, D, t.dim_feedforward, 'gelu');
    x = b.add(h, layerScale(b, w, cfg, ff, `${p}.layer_scale_2`));
  }
  const out = t.output_dimensions[0]!;
  if (out !== D) x = linear(b, x, `${prefix}.output_projs.0`, w.get(`${prefix}.output_projs.0.weight`, [out, D]), out, D);
  return { x: b.transpose(x, [0, 2, 1]), T };
}

function layerScale(b: GraphBuilder, w: WeightSource, cfg: MimiConfig, x: Value, name: string): Value {
  if (cfg.transformer.layer_scale === null) return x;
  const d = cfg.transformer.d_model;
  return b.mul(b.weight(`${name}.scale`, w.get(`${name}.scale`, [d]), [d]), x);
}

/** Checkpoint tensors of one ProjectedTransformer. */
export function transformerTensorShapes(cfg: MimiConfig, prefix: string, out: Map<string, number[]>): void {
  const t = cfg.transformer;
  const D = t.d_model;
  if (D !== t.input_dimension) out.set(`${prefix}.input_proj.weight`, [D, t.input_dimension]);
  t.output_dimensions.forEach((o, i) => {
    if (o !== D) out.set(`${prefix}.output_projs.${i}.weight`, [o, D]);
  });
  for (let l = 0; l < t.num_layers; l++) {
    const p = `${prefix}.transformer.layers.${l}`;
    out.set(`${p}.self_attn.in_projs.0.weight`, [3 * D, D]);
    out.set(`${p}.self_attn.out_projs.0.weight`, [D, D]);
    for (const n of ['norm1', 'norm2']) {
      if (t.norm.startsWith('rms')) out.set(`${p}.${n}.alpha`, [1, 1, D]);
      else {
        out.set(`${p}.${n}.weight`, [D]);
        out.set(`${p}.${n}.bias`, [D]);
      }
    }
    out.set(`${p}.linear1.weight`, [t.dim_feedforward, D]);
    out.set(`${p}.linear2.weight`, [D, t.dim_feedforward]);
    if (t.layer_scale !== null) {
      out.set(`${p}.layer_scale_1.scale`, [D]);
      out.set(`${p}.layer_scale_2.scale`, [D]);
    }
  }
}
