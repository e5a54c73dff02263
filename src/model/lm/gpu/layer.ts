import type { WeightSource } from '../../checkpoint/weights.js';
import { A, MS_DOMAIN, type DType, type GraphBuilder, type Value } from '../../onnx/graph-builder.js';
import { activation, type Activation } from '../../graphs/blocks/ffn.js';
import type { LayerSpec } from '../transformer-layer.js';
import { normWeights, projection } from '../weight-names.js';
import { residualNorm, storedLinear, vectorWeight, type Residual } from './ops.js';
import type { MatrixWeight, StorageWeights } from './weights.js';

/** The same description of a layer as the CPU graphs use. */
export type GpuLayerSpec = LayerSpec;

/**
 * Attention over the layer's cache for one new token per row. Gets q, k, v
 * as [B, H, 1, Dh] in the activation dtype (q scaled, rotated where RoPE
 * applies) and returns the attended values [B, H, 1, Dh]; it also declares
 * the cache outputs.
 */
export type Attend = (q: Value, k: Value, v: Value) => Value;

/** Per-row RoPE tables [B, Dh/2] in the activation dtype, and each row's index [B, 1] int64. */
export interface RopeTables {
  cos: Value;
  sin: Value;
  rowIds: Value;
}

export interface LayerContext {
  b: GraphBuilder;
  src: WeightSource;
  store: StorageWeights;
  act: DType;
  /** null: no RoPE (the depformer). */
  rope: RopeTables | null;
}

/**
 * One Moshi transformer layer for a single new frame per row ([B, D], rank 2
 * throughout), everything in the activation dtype (float16 for fp16/int4),
 * as Moshi's own bf16 inference keeps it: the residual stream too, with the
 * norms computing in float32 inside their kernels. The layer's last residual
 * add is left pending for the next norm to fuse (see Residual).
 *
 * Written for few operators: on WebGPU every node costs host time whatever
 * its size (docs/gpu.md), so there is no cast in a layer (a float32 residual
 * stream cost four per layer, and changed the fixture's logit error by 4%,
 * docs/gpu.md "Precision"), q, k and v come out of one reshape already in
 * heads layout, and RoPE rotates q and k together in that layout.
 */
export function gpuLayer(c: LayerContext, s: GpuLayerSpec, input: Residual, attend: Attend): Residual {
  const { b, src, store, act } = c;
  const lin = (h: Value, name: string, w: MatrixWeight, out: number, inp: number) => storedLinear(b, h, name, w, out, inp, act);
  return b.scope(s.prefix, () => {
    const dh = s.dim / s.heads;
    const H = s.heads;
    const r1 = residualNorm(b, input, 'norm1', normWeights(src, `${s.prefix}.norm1`, s.norm, s.dim), act);
    const attnPrefix = `${s.prefix}.self_attn`;
    // Names identify a weight (per-step layers hold one per step): a store may cache by name.
    const stepTag = s.perStep ? `.${s.step}` : '';
    const inProj = store.matrix(`${attnPrefix}.in_proj${stepTag}`, 3 * s.dim, s.dim, () => scaledInProj(src, attnPrefix, s, dh));
    // [B, 3D] is [B, 3, H, Dh] in memory, so also [B, 3H, 1, Dh]: q, k and v split off in heads layout.
    const qkv = b.reshape(lin(r1.normed, 'self_attn.in_proj', inProj, 3 * s.dim, s.dim), [0, 3 * H, 1, dh]);
    let q: Value;
    let k: Value;
    let v: Value;
    if (c.rope) {
      const [qk, vv] = b.split(qkv, [2 * H, H], 1) as [Value, Value];
      [q, k] = b.split(rope(b, qk, c.rope, 2 * H), [H, H], 1) as [Value, Value];
      v = vv;
    } else {
      [q, k, v] = b.split(qkv, [H, H, H], 1) as [Value, Value, Value];
    }
    const merged = b.reshape(attend(q, k, v), [0, s.dim]);
    const outProj = store.matrix(`${attnPrefix}.out_proj${stepTag}`, s.dim, s.dim, () => projection(src, attnPrefix, 'out', s.step, s.steps, s.dim, s.dim));
    let a = lin(merged, 'self_attn.out_proj', outProj, s.dim, s.dim);
    if (s.layerScale) a = b.mul(a, vectorWeight(b, 'ls1', src.get(`${s.prefix}.layer_scale_1.scale`, [s.dim]), act));
    const r2 = residualNorm(b, { x: r1.x, pending: a }, 'norm2', normWeights(src, `${s.prefix}.norm2`, s.norm, s.dim), act);
    const gp = s.perStep ? `${s.prefix}.gating.${s.step}` : `${s.prefix}.gating`;
    const wIn = store.matrix(`${gp}.linear_in`, 2 * s.ffnHidden, s.dim, () => src.get(`${gp}.linear_in.weight`, [2 * s.ffnHidden, s.dim]));
    const wOut = store.matrix(`${gp}.linear_out`, s.dim, s.ffnHidden, () => src.get(`${gp}.linear_out.weight`, [s.dim, s.ffnHidden]));
    const hid = lin(r2.normed, 'gating.linear_in', wIn, 2 * s.ffnHidden, s.dim);
    const [gate, up] = b.split(hid, [s.ffnHidden, s.ffnHidden], -1) as [Value, Value];
    let f = lin(b.mul(gatedActivation(b, gate, s.gating, act), up), 'gating.linear_out', wOut, s.dim, s.ffnHidden);
    if (s.layerScale) f = b.mul(f, vectorWeight(b, 'ls2', src.get(`${s.prefix}.layer_scale_2.scale`, [s.dim]), act));
    return { x: r2.x, pending: f };
  });
}

/** in_proj with the 1/sqrt(Dh) score scale folded into the query rows (as attention.ts does). */
function scaledInProj(src: WeightSource, prefix: string, s: GpuLayerSpec, dh: number): Float32Array {
  const w = Float32Array.from(projection(src, prefix, 'in', s.step, s.steps, 3 * s.dim, s.dim));
  const scale = 1 / Math.sqrt(dh);
  for (let i = 0; i < s.dim * s.dim; i++) w[i]! *= scale;
  return w;
}

/**
 * Interleaved RoPE on q and k together, [B, 2H, 1, Dh] (the 4-D heads
 * layout), as one RotaryEmbedding kernel: its cos/sin "cache" rows are the
 * batch rows' own tables ([B, Dh/2]) and each row's position id is its row
 * index.
 */
function rope(b: GraphBuilder, x: Value, t: RopeTables, heads: number): Value {
  return b.op1('RotaryEmbedding', [x, t.rowIds, t.cos, t.sin], { interleaved: A.i(1), num_heads: A.i(heads) }, MS_DOMAIN);
}

/**
 * SiLU and friends in the activation dtype; activations with float32 constants
 * go through float32. SiLU is x * sigmoid(x), onnxruntime's QuickGelu with
 * alpha 1: one kernel instead of two.
 */
function gatedActivation(b: GraphBuilder, x: Value, kind: Activation, act: DType): Value {
  if (kind === 'silu') return b.op1('QuickGelu', [x], { alpha: A.f(1) }, MS_DOMAIN);
  if (act === 'float32' || kind !== 'gelu') return activation(b, x, kind);
  return b.cast(activation(b, b.cast(x, 'float32'), kind), act);
}
