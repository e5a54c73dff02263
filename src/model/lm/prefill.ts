import { embeddingIndices, embeddingLayout } from './embeddings.js';
import { missingPrefillGraph, type LmRunner, type TemporalResult } from './lm-runner.js';
import { checkMobaOptions, type MobaOptions } from './moba/blocks.js';

export type { MobaOptions } from './moba/blocks.js';

export interface PrefillOptions {
  /** Frames per pass (256 measured best on the CPU bench preset). */
  chunk: number;
  /** Block-sparse attention for the passes (approximate); null or absent: full attention. */
  moba?: MobaOptions | null;
}

export interface PrefillResult {
  /** [D] hidden state of the last frame (the depformer's input). */
  hidden: Float32Array;
  /** [text_card] text logits of the last frame. */
  textLogits: Float32Array;
  /** Frames prefilled, which is also the slot's position now. */
  frames: number;
}

/**
 * Rebuilds a session's temporal KV cache from its token history, as if the
 * frames had been stepped one by one, in passes of `chunk` frames.
 *
 * `history` is frames × streams input tokens (text, then audio codebooks),
 * exactly what was fed at each step, -1 where no token was. The slot is reset
 * first; positions run from 0, so RoPE matches stepping. Every frame is run
 * even when the history is longer than the context: only the last `context`
 * frames stay in the cache, but each layer's keys there depend, through the
 * layers below, on frames up to layers × context back (measured on the
 * fixture: dropping frames beyond 1× context moves logits by 0.7, beyond 2×
 * by 1e-6 with its 2 layers), so skipping them would not be exact. Needs a
 * runner created with the prefill graph(s) (LmGraphs.prefill, and
 * LmGraphs.prefillMoba for MoBA); a refused call leaves the slot as it was.
 */
export async function prefill(runner: LmRunner, slot: number, history: Int32Array, opts: PrefillOptions): Promise<PrefillResult> {
  const d = runner.dims;
  const S = d.streams;
  if (!Number.isInteger(slot) || slot < 0 || slot >= runner.slots) throw new RangeError(`slot ${slot} out of range 0..${runner.slots - 1}`);
  if (!Number.isInteger(opts.chunk) || opts.chunk < 1) throw new RangeError(`prefill chunk must be a positive integer, got ${opts.chunk}`);
  if (history.length === 0 || history.length % S !== 0) {
    throw new RangeError(`history must hold a positive whole number of frames of ${S} tokens, got ${history.length} tokens`);
  }
  const moba = opts.moba ?? null;
  if (moba) checkMobaOptions(moba);
  if (!runner.canPrefill(moba !== null)) throw new Error(missingPrefillGraph(moba !== null)); // before the slot is reset

  const frames = history.length / S;
  checkTokens(history, S, d.textCard, d.card);
  const layout = embeddingLayout(d);
  runner.resetSlot(slot);
  let last: TemporalResult | null = null;
  for (let start = 0; start < frames; start += opts.chunk) {
    const T = Math.min(opts.chunk, frames - start);
    const indices = new BigInt64Array(T * S);
    for (let t = 0; t < T; t++) {
      const at = (start + t) * S;
      embeddingIndices(layout, history.subarray(at, at + S), indices, t * S);
    }
    last = await runner.prefillStep(slot, T, indices, moba);
  }
  if (!last) throw new Error('unreachable: a non-empty history makes at least one pass');
  return { hidden: last.hidden, textLogits: last.textLogits, frames };
}

/** Text tokens run -1..text_card and audio tokens -1..card (the top one is the initial token). */
function checkTokens(history: Int32Array, streams: number, textCard: number, card: number): void {
  for (let i = 0; i < history.length; i++) {
    const s = i % streams;
    const t = history[i]!;
    if (t < -1 || t > (s === 0 ? textCard : card)) {
      throw new RangeError(`history frame ${Math.floor(i / streams)} stream ${s}: token ${t} out of range`);
    }
  }
}
