import { DelayedTokens } from '../engine/delayed-tokens.js';
import { embeddingIndices, embeddingLayout } from '../model/lm/embeddings.js';
import type { LmStepper } from '../model/lm/lm-stepper.js';
import type { Reference } from './reference.js';

export interface LmParityResult {
  maxTextLogitDiff: number;
  maxDepformerLogitDiff: number;
  /** Root mean square of the same differences: the max moves with one outlier, this with the whole run. */
  rmsTextLogitDiff: number;
  rmsDepformerLogitDiff: number;
  greedyMatched: number;
  greedyTotal: number;
  /** Free-running greedy outputs, one per step (null while the delays fill). */
  outputs: (number[] | null)[];
}

function argmax(a: Float32Array, off: number, n: number): number {
  let best = 0;
  for (let i = 1; i < n; i++) if (a[off + i]! > a[off + best]!) best = i;
  return best;
}

/**
 * Steps the LM over the reference's user tokens twice: with the reference's
 * own tokens forced as inputs (so one near-tie cannot derail the rest) to
 * compare logits, then free-running greedy to compare outputs.
 */
/** What the comparison needs of a runner (LmRunner, or GpuLmRunner with its caches on the device). */
type ParityStepper = Pick<LmStepper, 'dims' | 'resetSlot' | 'temporalStep' | 'beginDepformer' | 'depformerStep'>;

export async function lmParity(runner: ParityStepper, delays: number[], ref: Reference['lm']): Promise<LmParityResult> {
  const d = runner.dims;
  const layout = embeddingLayout(d);
  const generated = 1 + d.depQ;
  // Token sampled at step s for stream g, as the reference's realigned outputs reveal it.
  const forced = (s: number, g: number): number | null => ref.outputs[s + d.maxDelay - delays[g]!]?.[g] ?? null;

  const run = async (teacher: boolean) => {
    runner.resetSlot(0);
    const tokens = new DelayedTokens(1, delays, generated, d.textCard, d.card);
    const input = new Int32Array(d.streams);
    const idx = new BigInt64Array(d.streams);
    const sampled = new Int32Array(generated);
    const out = new Int32Array(generated);
    const prev = new BigInt64Array(1);
    let maxText = 0;
    let maxDep = 0;
    let sqText = 0;
    let sqDep = 0;
    const outputs: (number[] | null)[] = [];
    for (let t = 0; t < ref.steps; t++) {
      tokens.input(0, ref.user_audio_tokens[t]!, input);
      embeddingIndices(layout, input, idx, 0);
      const { hidden, textLogits } = await runner.temporalStep(1, 1, idx);
      const refText = ref.text_logits[t]!;
      for (let i = 0; i < d.textCard; i++) {
        const e = textLogits[i]! - refText[i]!;
        maxText = Math.max(maxText, Math.abs(e));
        sqText += e * e;
      }
      sampled[0] = (teacher ? forced(t, 0) : null) ?? argmax(textLogits, 0, d.textCard);
      runner.beginDepformer(1);
      for (let k = 0; k < d.depQ; k++) {
        prev[0] = BigInt(sampled[k]!);
        const logits = await runner.depformerStep(k, 1, hidden, prev);
        const refDep = ref.depformer_logits[t]![k]!;
        for (let i = 0; i < d.card; i++) {
          const e = logits[i]! - refDep[i]!;
          maxDep = Math.max(maxDep, Math.abs(e));
          sqDep += e * e;
        }
        sampled[k + 1] = (teacher ? forced(t, k + 1) : null) ?? argmax(logits, 0, d.card);
      }
      outputs.push(tokens.commit(0, sampled, out) ? [...out] : null);
    }
    const rmsText = Math.sqrt(sqText / (ref.steps * d.textCard));
    const rmsDep = Math.sqrt(sqDep / (ref.steps * d.depQ * d.card));
    return { maxText, maxDep, rmsText, rmsDep, outputs };
  };

  const forcedRun = await run(true);
  const greedy = await run(false);
  let matched = 0;
  for (let t = 0; t < ref.steps; t++) {
    const a = greedy.outputs[t];
    const b = ref.outputs[t];
    if (a === null ? b === null : b !== null && a.length === b.length && a.every((v, i) => v === b[i])) matched++;
  }
  return {
    maxTextLogitDiff: forcedRun.maxText,
    maxDepformerLogitDiff: forcedRun.maxDep,
    rmsTextLogitDiff: forcedRun.rmsText,
    rmsDepformerLogitDiff: forcedRun.rmsDep,
    greedyMatched: matched,
    greedyTotal: ref.steps,
    outputs: greedy.outputs,
  };
}
