import type { LmConfig, LmDims } from '../model/lm/config.js';
import type { AudioDrawSettings, RowSampler } from './model-pipeline.js';
import { createRng, randomSeed, SessionRng } from './sampling/rng.js';
import type { SampleOptions } from './sampling/sampler.js';
import type { SamplingParams } from './sampling/sampling-params.js';
import { TextTokenSampler } from './sampling/text-sampler.js';

/**
 * One session's token choices: its own seeded generators for text and audio,
 * so that a seed reproduces a session whatever else the server is doing.
 */
export interface SamplerSnapshot {
  textRng: [number, number, number, number];
  audioRng: [number, number, number, number];
  recentText: number[];
}

export class SessionSampler implements RowSampler {
  private text!: TextTokenSampler;
  private textRng!: SessionRng;
  private audioRng!: SessionRng;
  private readonly audioOpts: SampleOptions;
  readonly textSeed: bigint;
  readonly audioSeed: bigint;

  readonly params: SamplingParams;

  constructor(params: SamplingParams, dims: LmDims, private readonly cfg: LmConfig) {
    this.textSeed = params.textSeed ?? randomSeed();
    this.audioSeed = params.audioSeed ?? randomSeed();
    this.params = { ...params, textSeed: this.textSeed, audioSeed: this.audioSeed };
    this.audioOpts = { temperature: params.audioTemperature, topK: Math.min(params.audioTopK, dims.card) };
    this.reset();
  }

  /** Back to the seeds' first draws (the control message `restart`). */
  reset(): void {
    this.textRng = createRng(this.textSeed);
    this.text = this.makeText(this.textRng);
    this.audioRng = createRng(this.audioSeed);
  }

  private makeText(rng: SessionRng): TextTokenSampler {
    const p = this.params;
    return new TextTokenSampler({
      temperature: p.textTemperature,
      topK: p.textTopK,
      padId: this.cfg.existing_text_padding_id,
      endOfPaddingId: this.cfg.existing_text_end_padding_id,
      textStartId: this.cfg.text_card,
      padMult: p.padMult,
      repetitionPenalty: p.repetitionPenalty,
      repetitionPenaltyContext: p.repetitionPenaltyContext,
    }, rng);
  }

  /** Where the generators are, so that a resumed session draws what it would have drawn. */
  snapshot(): SamplerSnapshot {
    return { textRng: this.textRng.state(), audioRng: this.audioRng.state(), recentText: this.text.recentTokens() };
  }

  restore(s: SamplerSnapshot): void {
    this.reset();
    const [t0, t1, t2, t3] = s.textRng;
    const [a0, a1, a2, a3] = s.audioRng;
    this.textRng = SessionRng.fromState(t0, t1, t2, t3);
    this.text = this.makeText(this.textRng);
    for (const id of s.recentText) this.text.observe(id);
    this.audioRng = SessionRng.fromState(a0, a1, a2, a3);
  }

  sampleText(logits: Float32Array, offset: number, length: number): number {
    return this.text.sample(logits, offset, length);
  }

  audioDraw(uniforms: Float32Array, offset: number, count: number): AudioDrawSettings {
    const { temperature, topK } = this.audioOpts;
    const greedy = !(temperature > 0) || topK === 1;
    if (!greedy) for (let i = 0; i < count; i++) uniforms[offset + i] = this.audioRng.nextFloat();
    return { greedy, temperature, topK };
  }
}
