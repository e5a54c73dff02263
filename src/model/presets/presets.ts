import { RandomWeights } from '../checkpoint/weights.js';
import type { ModelSource } from '../convert.js';
import { parseLmConfig, type LmConfig, type LmConfigInput } from '../lm/config.js';
import { defaultMimiConfig, defaultMimiConfigInput, parseMimiConfig, type MimiConfig } from '../mimi/config.js';
import { randomMimiWeights } from '../mimi/random-weights.js';
import { DEMO_WORDS, wordTokenizerModel } from './word-tokenizer.js';


const SEED = 1234;

/** Linear/embedding weights at 1/sqrt(fan-in); norms at 1; layer scales at their init. */
function lmRule(name: string, shape: readonly number[]): { constant: number } | { scale: number } {
  if (name.endsWith('.alpha') || /norm\d?\.weight$/.test(name)) return { constant: 1 };
  if (name.endsWith('.bias')) return { constant: 0 };
  if (name.includes('layer_scale')) return { constant: 0.01 };
  const fanIn = shape[shape.length - 1]!;
  return { scale: 1 / Math.sqrt(fanIn) };
}

const small = (overrides: LmConfigInput): LmConfig => parseLmConfig({ ...overrides }, 'preset');

/**
 * Mimi's architecture at a quarter of its width (SEANet 16 filters, a 2-layer
 * 128-wide transformer): about 0.7 GFLOP per session-second instead of 11,
 * so that the demo serves several sessions on two cores.
 */
const smallMimi = (): MimiConfig => {
  const d = defaultMimiConfigInput;
  return parseMimiConfig({
    ...d,
    seanet: { ...d.seanet, n_filters: 16, dimension: 128 },
    quantizer: { ...d.quantizer, dimension: 64, n_q: 8, input_dimension: 128, output_dimension: 128 },
    transformer: { ...d.transformer, d_model: 128, num_heads: 4, num_layers: 2, dim_feedforward: 512, input_dimension: 128, output_dimensions: [128] },
  }, 'demo Mimi');
};

const PRESETS: Record<string, () => { lm: LmConfig; mimi: MimiConfig; vocab: number }> = {
  /** Small enough for several real-time sessions on two CPU cores. */
  demo: () => {
    const vocab = 512;
    return {
      vocab,
      lm: small({
        dim: 256, num_heads: 4, num_layers: 4, context: 750, text_card: vocab, card: 2048,
        depformer_dim: 128, depformer_num_heads: 2, depformer_num_layers: 2, depformer_dim_feedforward: 4 * 128,
      }),
      mimi: smallMimi(),
    };
  },
  /** The benchmark's fixed workload (issue: throughput). */
  bench: () => ({
    vocab: 32000,
    lm: small({
      dim: 512, num_heads: 8, num_layers: 6, context: 3000, text_card: 32000, card: 2048,
      depformer_dim: 256, depformer_num_heads: 4, depformer_num_layers: 2, depformer_dim_feedforward: 4 * 256,
    }),
    mimi: defaultMimiConfig,
  }),
  /** Moshi 7B's exact shapes (for the GPU benchmark). */
  'moshi-7b-shaped': () => ({ vocab: 32000, lm: small({}), mimi: defaultMimiConfig }),
};

export const presetNames = Object.keys(PRESETS);

export function isPreset(name: string): boolean {
  return name in PRESETS;
}

/** A model Parley builds itself: Moshi's architecture with seeded random weights. */
export function presetSource(name: string): ModelSource {
  const make = PRESETS[name];
  if (!make) throw new Error(`unknown preset ${name} (known: ${presetNames.join(', ')})`);
  const p = make();
  return {
    name: `preset:${name}`,
    source: `preset ${name} (seed ${SEED})`,
    lm: p.lm,
    lmWeights: new RandomWeights(SEED, lmRule),
    mimi: p.mimi,
    mimiWeights: randomMimiWeights(p.mimi, SEED),
    tokenizer: wordTokenizerModel(DEMO_WORDS, Math.min(p.vocab, 4096)),
  };
}
