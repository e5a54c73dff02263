import type { Rng } from './rng.js';
import { sampleToken, type EntryBias, type SampleOptions } from './sampler.js';

// Text-token sampling with the two extra knobs of Kyutai's Rust server
// (moshi-core lm_generate_multistream.rs, State::step_):
//
// pad_mult: after softmax(logits / T) the padding token's probability is
//   multiplied by exp(pad_mult) (then top-k and the draw renormalise). So it
//   is a log-probability bias: > 0 makes Moshi pause more, < 0 talk more,
//   0 changes nothing. Greedy decoding ignores it, as the Rust server's
//   argmax path does.
//
// repetition penalty (context, penalty): before sampling, walk the text
//   tokens generated so far from the most recent back, skipping padding,
//   end-of-padding and text-start ids, over at most `context` tokens
//   (repeats count towards it); each distinct token seen gets its logit
//   divided by `penalty` if >= 0, multiplied by it if < 0 (once per token,
//   however often it appears). It applies to greedy decoding too. penalty 1
//   or context 0 turns it off.

export interface TextSamplerOptions extends SampleOptions {
  padId: number;
  endOfPaddingId: number;
  textStartId: number;
  /** Log-probability bias of the padding token; 0 for none. */
  padMult: number;
  /** 1 for none. */
  repetitionPenalty: number;
  /** How many recent non-padding text tokens the penalty looks at; 0 for none. */
  repetitionPenaltyContext: number;
}

export class TextTokenSampler {
  // The last `context` non-special text tokens, as a ring.
  private readonly recent: Int32Array;
  private recentCount = 0;
  private recentNext = 0;
  // Scratch for the penalty: which ids were already penalised this step
  // (stamped with `stamp`), and the logits to put back afterwards.
  private seen = new Uint32Array(0);
  private stamp = 0;
  private readonly savedIdx: Int32Array;
  private readonly savedVal: Float32Array;
  private readonly penalty: number;
  private readonly bias: EntryBias;

  constructor(
    private readonly opts: TextSamplerOptions,
    private readonly rng: Rng,
  ) {
    const context = Math.max(0, Math.floor(opts.repetitionPenaltyContext));
    this.recent = new Int32Array(context);
    this.savedIdx = new Int32Array(context);
    this.savedVal = new Float32Array(context);
    this.penalty = Math.fround(opts.repetitionPenalty); // the Rust server's penalty is an f32
    this.bias = { index: opts.padId, logProbBias: opts.padMult };
  }

  /**
   * Samples the next text token from logits[offset, offset + length) and
   * remembers it for the repetition penalty. The logits are modified during
   * the call and restored before it returns.
   */
  sample(logits: Float32Array, offset: number, length: number): number {
    const saved = this.applyPenalty(logits, offset, length);
    let token: number;
    try {
      token = sampleToken(logits, offset, length, this.opts, this.rng, this.bias);
    } finally {
      for (let j = 0; j < saved; j++) logits[offset + this.savedIdx[j]!] = this.savedVal[j]!;
    }
    this.observe(token);
    return token;
  }

  /** Remembers a text token that was not drawn by sample() (e.g. a forced one). */
  observe(token: number): void {
    const o = this.opts;
    if (this.recent.length === 0 || token === o.padId || token === o.endOfPaddingId || token === o.textStartId) return;
    this.recent[this.recentNext] = token;
    this.recentNext = (this.recentNext + 1) % this.recent.length;
    if (this.recentCount < this.recent.length) this.recentCount++;
  }

  /** The recent tokens the repetition penalty looks at, oldest first (for a resume). */
  recentTokens(): number[] {
    const cap = this.recent.length;
    const out: number[] = [];
    for (let j = this.recentCount; j >= 1; j--) out.push(this.recent[(this.recentNext - j + cap) % cap]!);
    return out;
  }

  reset(): void {
    this.recentCount = 0;
    this.recentNext = 0;
  }

  /** Penalises the recent tokens in place; returns how many logits it saved for restoring. */
  private applyPenalty(logits: Float32Array, offset: number, length: number): number {
    const penalty = this.penalty;
    if (penalty === 1 || this.recentCount === 0) return 0;
    if (this.seen.length < length) this.seen = new Uint32Array(length);
    if (++this.stamp === 0xffffffff) {
      this.seen.fill(0);
      this.stamp = 1;
    }
    const cap = this.recent.length;
    let saved = 0;
    for (let j = 1; j <= this.recentCount; j++) {
      const id = this.recent[(this.recentNext - j + cap) % cap]!;
      if (id < 0 || id >= length || this.seen[id] === this.stamp) continue;
      this.seen[id] = this.stamp;
      const v = logits[offset + id]!;
      this.savedIdx[saved] = id;
      this.savedVal[saved] = v;
      saved++;
      logits[offset + id] = v >= 0 ? v / penalty : v * penalty;
    }
    return saved;
  }
}
