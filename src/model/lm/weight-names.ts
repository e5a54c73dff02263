import type { WeightSource } from '../checkpoint/weights.js';

/**
 * Attention projections appear under several names in Kyutai checkpoints:
 * split per step (`in_projs.{i}.weight`) or stacked (`in_proj_weight`,
 * `in_proj.weight`), the stacked form holding `mult` matrices one after the
 * other. This returns matrix `index` of shape [rows, cols] either way.
 */
export function projection(
  src: WeightSource, prefix: string, kind: 'in' | 'out', index: number, mult: number, rows: number, cols: number,
): Float32Array {
  const split = `${prefix}.${kind}_projs.${index}.weight`;
  if (src.has(split)) return src.get(split, [rows, cols]);
  const stackedNames = kind === 'in' ? [`${prefix}.in_proj_weight`, `${prefix}.in_proj.weight`] : [`${prefix}.out_proj.weight`];
  for (const name of stackedNames) {
    if (src.has(name)) {
      const all = src.get(name, [mult * rows, cols]);
      return all.subarray(index * rows * cols, (index + 1) * rows * cols);
    }
  }
  // Let the source produce its own "missing tensor" error for the split name.
  return src.get(split, [rows, cols]);
}

/** The weights of one norm: RMSNorm's `alpha` or LayerNorm's weight and bias. */
export type NormWeights = { kind: 'rms'; alpha: Float32Array; eps: number } | { kind: 'layer'; weight: Float32Array; bias: Float32Array; eps: number };

export function normWeights(src: WeightSource, prefix: string, norm: string, dim: number): NormWeights {
  switch (norm) {
    case 'rms_norm_f32':
      return { kind: 'rms', alpha: src.get(`${prefix}.alpha`, [1, 1, dim]), eps: 1e-8 };
    case 'rms_norm':
      return { kind: 'rms', alpha: src.get(`${prefix}.alpha`, [1, 1, dim]), eps: 1e-5 };
    case 'layer_norm':
      return { kind: 'layer', weight: src.get(`${prefix}.weight`, [dim]), bias: src.get(`${prefix}.bias`, [dim]), eps: 1e-5 };
    case 'layer_norm_f32':
      return { kind: 'layer', weight: src.get(`${prefix}.weight`, [dim]), bias: src.get(`${prefix}.bias`, [dim]), eps: 1e-8 };
    default:
      throw new Error(`unsupported norm ${norm}`);
  }
}
