import type { WeightSource } from '../checkpoint/weights.js';
import { linear, transpose2d } from '../graphs/blocks/linear.js';
import { A, type GraphBuilder, type Value } from '../onnx/graph-builder.js';
import type { MimiConfig } from './config.js';

// SplitResidualVectorQuantizer (moshi/quantization/vq.py, core_vq.py): codebook
// 0 is `rvq_first`, codebooks 1.. are `rvq_rest`, each half with its own
// input/output projection (1x1 convs, no bias). Encoding is greedy residual
// nearest-neighbour search; decoding sums the chosen centroids.

type Half = 'rvq_first' | 'rvq_rest';

/** torch's EuclideanCodebook epsilon (clamp(min=1e-5) on a float32 tensor). */
const CODEBOOK_EPS = Math.fround(1e-5);

/** The centroids [bins, D]: embedding_sum / max(cluster_usage, eps), in float32. */
export function codebook(w: WeightSource, cfg: MimiConfig, half: Half, layer: number): Float32Array {
  const { bins, dimension: D } = cfg.quantizer;
  const p = `quantizer.${half}.vq.layers.${layer}._codebook`;
  const sum = w.get(`${p}.embedding_sum`, [bins, D]);
  const usage = w.get(`${p}.cluster_usage`, [bins]);
  const out = new Float32Array(bins * D);
  for (let k = 0; k < bins; k++) {
    const u = Math.max(usage[k]!, CODEBOOK_EPS);
    for (let d = 0; d < D; d++) out[k * D + d] = sum[k * D + d]! / u;
  }
  return out;
}

/** Which half and layer serve global codebook q. */
function locate(cfg: MimiConfig, q: number): { half: Half; layer: number } {
  const sem = cfg.quantizer.n_q_semantic;
  return q < sem ? { half: 'rvq_first', layer: q } : { half: 'rvq_rest', layer: q - sem };
}

function projection(b: GraphBuilder, w: WeightSource, cfg: MimiConfig, x: Value, half: Half, kind: 'input' | 'output'): Value {
  const { dimension: D } = cfg.quantizer;
  const outer = cfg.seanet.dimension;
  const [o, i] = kind === 'input' ? [D, outer] : [outer, D];
  const name = `quantizer.${half}.${kind}_proj`;
  return linear(b, x, name, w.get(`${name}.weight`, [o, i, 1]), o, i);
}

/**
 * Index of the nearest centroid for each row of r [B, D] -> [B] int64, with
 * the distance torch.cdist computes: for more than 25 centroids it takes the
 * matrix-product form sqrt(max(|r|² - 2 r·c + |c|², 0)), else the direct one.
 * Ties go to the lowest index, as argmin does.
 */
function nearest(b: GraphBuilder, r: Value, cb: Float32Array, bins: number, D: number, name: string): Value {
  let dist2: Value;
  if (bins > 25) {
    // [-2r, |r|², 1] · [c, 1, |c|²]ᵀ, as torch's _euclidean_dist pads its operands.
    const rr = b.reduceSum(b.mul(r, r), [-1]);
    const ones = b.op1('Expand', [b.constF32([1], [1, 1]), b.op1('Shape', [rr])]);
    const xPad = b.concat([b.mul(r, b.constF32(-2)), rr, ones], -1);
    const yPad = new Float32Array(bins * (D + 2));
    for (let k = 0; k < bins; k++) {
      let cc = 0;
      for (let d = 0; d < D; d++) {
        const v = cb[k * D + d]!;
        yPad[k * (D + 2) + d] = v;
        cc = Math.fround(cc + Math.fround(v * v));
      }
      yPad[k * (D + 2) + D] = 1;
      yPad[k * (D + 2) + D + 1] = cc;
    }
    const yPadT = b.weight(`${name}.cdist_rhs`, transpose2d(yPad, bins, D + 2), [D + 2, bins]);
    dist2 = b.op1('Relu', [b.matmul(xPad, yPadT)]);
  } else {
    const c = b.weight(`${name}.centroids`, cb, [1, bins, D]);
    const diff = b.sub(b.unsqueeze(r, [1]), c);
    dist2 = b.reduceSum(b.mul(diff, diff), [-1], false);
  }
  const dist = b.op1('Sqrt', [dist2]);
  return b.op1('ArgMin', [dist], { axis: A.i(-1), keepdims: A.i(0), select_last_index: A.i(0) });
}

/** emb [B, dimension] -> codes [B, numCodebooks] int64. */
export function quantizerEncodeGraph(b: GraphBuilder, w: WeightSource, cfg: MimiConfig, emb: Value, numCodebooks: number): Value {
  const { bins, dimension: D } = cfg.quantizer;
  const codes: Value[] = [];
  const residuals = new Map<Half, Value>();
  for (let q = 0; q < numCodebooks; q++) {
    const { half, layer } = locate(cfg, q);
    let r = residuals.get(half) ?? projection(b, w, cfg, emb, half, 'input');
    const cb = codebook(w, cfg, half, layer);
    const name = `quantizer.${half}.vq.layers.${layer}`;
    const idx = nearest(b, r, cb, bins, D, name);
    codes.push(b.unsqueeze(idx, [1]));
    if (q + 1 < numCodebooks) {
      r = b.sub(r, b.gather(b.weight(`${name}.codebook`, cb, [bins, D]), idx, 0));
      residuals.set(half, r);
    }
  }
  return codes.length === 1 ? codes[0]! : b.concat(codes, 1);
}

/** codes [B, numCodebooks] int64 -> latent [B, dimension]. */
export function quantizerDecodeGraph(b: GraphBuilder, w: WeightSource, cfg: MimiConfig, codes: Value, numCodebooks: number): Value {
  const { bins, dimension: D } = cfg.quantizer;
  const sums = new Map<Half, Value>();
  for (let q = 0; q < numCodebooks; q++) {
    const { half, layer } = locate(cfg, q);
    const name = `quantizer.${half}.vq.layers.${layer}`;
    const idx = b.gather(codes, b.constI64(q), 1);
    const v = b.gather(b.weight(`${name}.codebook`, codebook(w, cfg, half, layer), [bins, D]), idx, 0);
    const prev = sums.get(half);
    sums.set(half, prev ? b.add(prev, v) : v);
  }
  let out: Value | null = null;
  for (const half of ['rvq_first', 'rvq_rest'] as const) {
    const s = sums.get(half);
    if (!s) continue;
    const y = projection(b, w, cfg, s, half, 'output');
    out = out ? b.add(out, y) : y;
  }
  return out!;
}

/** Checkpoint tensors of the quantizer. */
export function quantizerTensorShapes(cfg: MimiConfig, out: Map<string, number[]>): void {
  const { bins, dimension: D, n_q, n_q_semantic } = cfg.quantizer;
  const outer = cfg.seanet.dimension;
  for (const [half, layers] of [['rvq_first', n_q_semantic], ['rvq_rest', n_q - n_q_semantic]] as const) {
    out.set(`quantizer.${half}.input_proj.weight`, [D, outer, 1]);
    out.set(`quantizer.${half}.output_proj.weight`, [outer, D, 1]);
    for (let l = 0; l < layers; l++) {
      const p = `quantizer.${half}.vq.layers.${l}._codebook`;
      out.set(`${p}._initialized`, [1]);
      out.set(`${p}.cluster_usage`, [bins]);
      out.set(`${p}.embedding_sum`, [bins, D]);
    }
  }
}
