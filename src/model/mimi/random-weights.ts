import { RandomWeights, type WeightSource } from '../checkpoint/weights.js';
import { checkShape } from '../checkpoint/safetensors.js';
import type { MimiConfig } from './config.js';
import { mimiTensorShapes } from './tensor-shapes.js';

/**
 * Seeded random weights with every tensor a Mimi checkpoint of this config
 * has (same names and shapes), so built-in demo/bench models run the real
 * architecture: convs and linears uniform with std 1/sqrt(fan_in), norms at
 * 1 and biases at 0, LayerScale at its init, codebooks random with
 * cluster_usage 1 (centroid = embedding_sum).
 */
export function randomMimiWeights(cfg: MimiConfig, seed: number): WeightSource {
  const shapes = mimiTensorShapes(cfg);
  const layerScale = cfg.transformer.layer_scale ?? 1;
  const inner = new RandomWeights(seed, (name, shape) => {
    if (name.endsWith('.cluster_usage') || name.endsWith('._initialized')) return { constant: 1 };
    if (name.endsWith('.embedding_sum')) return { scale: 1 };
    if (/layer_scale_\d\.scale$/.test(name)) return { constant: layerScale };
    if (/\.norm\d\.(weight|alpha)$/.test(name)) return { constant: 1 };
    if (name.endsWith('.bias')) return { constant: 0 };
    // torch layouts: Linear [out, in], Conv1d [out, in/groups, k], ConvTranspose1d [in, out/groups, k].
    const fanIn = shape.length === 3 ? shape[1]! * shape[2]! : shape[shape.length - 1]!;
    return { scale: 1 / Math.sqrt(fanIn) };
  });
  return {
    label: `random Mimi (seed=${seed})`,
    has: (name) => shapes.has(name),
    get: (name, shape) => {
      const expected = shapes.get(name);
      if (!expected) throw new Error(`random Mimi weights: no tensor ${name} in this architecture`);
      checkShape('random Mimi weights', name, shape, expected);
      return inner.get(name, shape);
    },
  };
}
