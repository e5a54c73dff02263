import type { LmConfig, LmDims } from '../model/lm/config.js';
import type { RowSampler } from './model-pipeline.js';
import { createRng, randomSeed } from './sampling/rng.js';
import { sampleToken, type SampleOptions } from './sampling/sampler.js';
import type { SamplingParams } from './sampling/sampling-params.js';
import { TextTokenSampler } from './sampling/text-sampler.js';

/**
 * One session's token choices: its own seeded generators for text and audio,
 * so that a seed reproduces a session whatever else the server is doing.
 */
export class SessionSampler implements RowSampler {
  private text!: TextTokenSampler;
  private audioRng!: ReturnType<typeof createRng>;
  private readonly audioOpts: SampleOptions;
  readonly textSeed: bigint;
  readonly audioSeed: bigint;

  constructor(private readonly params: SamplingParams, dims: LmDims, private readonly cfg: LmConfig) {
    this.textSeed = params.textSeed ?? randomSeed();
    this.audioSeed = params.audioSeed ?? randomSeed();
    this.audioOpts = { temperature: params.audioTemperature, topK: Math.min(params.audioTopK, dims.card) };
    this.reset();
  }

  /** Back to the seeds' first draws (the control message `restart`). */
  reset(): void {
    const p = this.params;
    this.text = new TextTokenSampler({
      temperature: p.textTemperature,
      topK: p.textTopK,
      padId: this.cfg.existing_text_padding_id,
      endOfPaddingId: this.cfg.existing_text_end_padding_id,
      textStartId: this.cfg.text_card,
      padMult: p.padMult,
      repetitionPenalty: p.repetitionPenalty,
      repetitionPenaltyContext: p.repetitionPenaltyContext,
    }, createRng(this.textSeed));
    this.audioRng = createRng(this.audioSeed);
  }

  sampleText(logits: Float32Array, offset: number, length: number): number {
    return this.text.sample(logits, offset, length);
  }

  sampleAudio(_codebook: number, logits: Float32Array, offset: number, length: number): number {
    return sampleToken(logits, offset, length, this.audioOpts, this.audioRng);
  }
}
