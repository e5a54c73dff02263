import type { Rng } from './rng.js';
import { TopKSelector } from './top-k.js';

// Moshi's sample_token (moshi/utils/sampling.py): temperature <= 0 is greedy
// argmax; otherwise softmax(logits / T), keep the k most probable entries
// and draw among them in proportion to their probabilities. Candle's
// LogitsProcessor (Sampling::TopK), used by Kyutai's Rust server, draws from
// the same distribution. Only the k selected entries are exponentiated:
// renormalising over them cancels the full softmax's denominator.
//
// Runs for every session every 80 ms over 32000 text logits and 8 x 2048
// audio logits, so: no sort (TopKSelector picks the k entries in a few
// linear passes) and no allocation once the scratch buffers have grown.

export interface SampleOptions {
  /** <= 0: greedy. */
  temperature: number;
  /** Number of most probable entries to draw among; 1 is greedy, >= length (or <= 0) is all of them. */
  topK: number;
}

/**
 * An extra log-probability for one entry, applied after the temperature:
 * its probability is multiplied by exp(logProbBias). This is how Kyutai's
 * Rust server applies pad_mult. Ignored by greedy (temperature <= 0) decoding,
 * which is the T → 0 limit of it.
 */
export interface EntryBias {
  index: number;
  logProbBias: number;
}

/**
 * First index of the largest value (torch.argmax on ties). NaN entries never
 * win; if nothing beats -Infinity the answer is 0.
 */
export function argmax(logits: Float32Array, offset: number, length: number): number {
  let best = 0;
  let bestValue = -Infinity;
  for (let i = 0; i < length; i++) {
    const v = logits[offset + i]!;
    if (v > bestValue) {
      bestValue = v;
      best = i;
    }
  }
  return best;
}

/** Holds the scratch buffers of the draws; one per thread is enough (calls are synchronous). */
export class TokenSampler {
  private readonly selector = new TopKSelector();
  private weights = new Float64Array(256);

  /**
   * Samples an index in [0, length) from logits[offset, offset + length).
   * The logits may be modified during the call (for `bias`) and are restored
   * before it returns.
   */
  sample(logits: Float32Array, offset: number, length: number, opts: SampleOptions, rng: Rng, bias?: EntryBias): number {
    if (length <= 0) throw new RangeError('cannot sample from an empty distribution');
    const temperature = opts.temperature;
    if (!(temperature > 0)) return argmax(logits, offset, length);
    const k = opts.topK <= 0 || opts.topK >= length ? length : Math.floor(opts.topK);

    // p_i ∝ exp(l_i / T) · exp(b)  ⇔  logit l_i + b·T: bias the logit in place.
    let biasAt = -1;
    let saved = 0;
    if (bias && bias.logProbBias !== 0 && bias.index >= 0 && bias.index < length) {
      biasAt = offset + bias.index;
      saved = logits[biasAt]!;
      logits[biasAt] = saved + bias.logProbBias * temperature;
    }
    try {
      if (k === 1) return argmax(logits, offset, length);
      const n = k === length ? this.selector.selectAll(logits, offset, length) : this.selector.select(logits, offset, length, k);
      return this.draw(n, temperature, rng);
    } finally {
      if (biasAt >= 0) logits[biasAt] = saved;
    }
  }

  /** Draws among the n selected entries with weights exp((value - max) / T). */
  private draw(n: number, temperature: number, rng: Rng): number {
    const key = this.selector.keys;
    const idx = this.selector.indices;
    if (n === 0) return 0; // every logit was NaN
    let max = -Infinity;
    let maxAt = 0;
    for (let j = 0; j < n; j++) {
      if (key[j]! > max || (key[j] === max && idx[j]! < idx[maxAt]!)) {
        max = key[j]!;
        maxAt = j;
      }
    }
    // All -inf, or some +inf: the distribution degenerates to the (first) max.
    if (!Number.isFinite(max)) return idx[maxAt]!;
    if (this.weights.length < n) this.weights = new Float64Array(this.selector.keys.length);
    const w = this.weights;
    const invT = 1 / temperature;
    let total = 0;
    for (let j = 0; j < n; j++) {
      const x = Math.exp((key[j]! - max) * invT);
      w[j] = x;
      total += x;
    }
    const u = rng.nextFloat() * total;
    let acc = 0;
    for (let j = 0; j < n; j++) {
      acc += w[j]!;
      if (u < acc) return idx[j]!;
    }
    // Rounding left u at the very top: the last entry with any weight.
    for (let j = n - 1; j >= 0; j--) if (w[j]! > 0) return idx[j]!;
    return idx[maxAt]!;
  }
}

const shared = new TokenSampler();

/**
 * Moshi's sample_token over logits[offset, offset + length): greedy for
 * temperature <= 0 or topK 1, else top-k of softmax(logits / temperature).
 * Returns an index relative to `offset`.
 */
export function sampleToken(
  logits: Float32Array,
  offset: number,
  length: number,
  opts: SampleOptions,
  rng: Rng,
  bias?: EntryBias,
): number {
  return shared.sample(logits, offset, length, opts, rng, bias);
}
