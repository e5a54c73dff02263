import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HalfRoundedWeights } from '../model/checkpoint/weights.js';
import { checkpointSource, convertModel } from '../model/convert.js';
import type { Precision } from '../model/lm/gpu/precision.js';
import { createLmStepper } from '../model/lm/lm-stepper.js';
import { loadModelDir } from '../model/manifest.js';
import { MimiRunner } from '../model/mimi/mimi-runner.js';
import { SentencePieceTokenizer, loadSentencePieceModel } from '../model/tokenizer/index.js';
import type { SessionOptions } from '../model/onnx/session.js';
import { lmParity, type LmParityResult } from './lm-parity.js';
import { mimiParity, type MimiParityResult } from './mimi-parity.js';
import { loadReference } from './reference.js';

export interface ParityReport {
  mimi: MimiParityResult;
  lm: LmParityResult;
  textPiecesMatched: number;
  textPiecesTotal: number;
  pass: boolean;
  checks: { name: string; value: string; limit: string; pass: boolean }[];
}

export const TOLERANCE = { pcmRelL2: 1e-3, logit: 1e-3 };
/** float16 weights and activations (the bar): logits within 2e-2, greedy identical over the first steps. */
export const FP16_TOLERANCE = { logit: 2e-2, greedySteps: 10 };

export interface ParityVariant {
  /**
   * Run the LM with its caches on the device (GpuLmRunner over the graphs
   * `convert --precision` writes) in this precision; absent: LmRunner with
   * host caches, float32.
   */
  precision?: Precision;
  /**
   * Round the LM's weights to float16 and compute in float32 (host caches):
   * the part of a float16 model's error due to its weights alone. Judged by
   * the float16 bar.
   */
  roundWeights?: 'fp16';
}

/**
 * Converts a fixture checkpoint with the real conversion path, loads the
 * result as the server would, and compares everything with reference.json.
 */
export async function runParity(fixtureDir: string, opts: SessionOptions = { provider: 'cpu', intraOpThreads: 1 }, variant: ParityVariant = {}): Promise<ParityReport> {
  const ref = loadReference(join(fixtureDir, 'reference.json'));
  const out = mkdtempSync(join(tmpdir(), 'parley-parity-'));
  try {
    const source = checkpointSource(fixtureDir);
    if (variant.roundWeights) source.lmWeights = new HalfRoundedWeights(source.lmWeights);
    convertModel(source, out, () => {}, variant.precision ? { gpuPrecision: variant.precision } : {});
    const model = loadModelDir(out);
    const codec = await MimiRunner.create({ encoder: model.path(model.manifest.files.mimiEncoder), decoder: model.path(model.manifest.files.mimiDecoder) }, model.mimi, 1, opts);
    const mimi = await mimiParity(codec, ref.mimi);
    const { stepper: lmRunner } = await createLmStepper(model, 1, opts, model.manifest.files.gpu ? 'device' : 'host');
    const lm = await lmParity(lmRunner, model.lm.delays, ref.lm);
    let textMatched = 0;
    if (model.manifest.files.tokenizer) {
      const tok = new SentencePieceTokenizer(loadSentencePieceModel(model.path(model.manifest.files.tokenizer)), {
        padId: model.lm.existing_text_padding_id, endOfPaddingId: model.lm.existing_text_end_padding_id, textStartId: model.lm.text_card,
      });
      lm.outputs.forEach((o, t) => {
        const piece = o === null ? null : tok.pieceText(o[0]!);
        if (piece === ref.lm.text_pieces[t]) textMatched++;
      });
    }
    const logitLimit = (variant.precision && variant.precision !== 'fp32') || variant.roundWeights ? FP16_TOLERANCE.logit : TOLERANCE.logit;
    // Reduced precision: greedy decoding must agree over the first steps only (near-ties flip later).
    const greedySteps = logitLimit === TOLERANCE.logit ? ref.lm.steps : Math.min(FP16_TOLERANCE.greedySteps, ref.lm.steps);
    const greedyPrefix = matchedPrefix(lm.outputs, ref.lm.outputs, greedySteps);
    const checks = [
      { name: 'Mimi codes matched', value: `${mimi.codesMatched}/${mimi.codesTotal}`, limit: 'all', pass: mimi.codesMatched === mimi.codesTotal },
      { name: 'decoded PCM rel. L2 error', value: mimi.pcmRelL2.toExponential(2), limit: `< ${TOLERANCE.pcmRelL2}`, pass: mimi.pcmRelL2 < TOLERANCE.pcmRelL2 },
      { name: 'max text logit diff (teacher forced)', value: lm.maxTextLogitDiff.toExponential(2), limit: `< ${logitLimit}`, pass: lm.maxTextLogitDiff < logitLimit },
      { name: 'max depformer logit diff (teacher forced)', value: lm.maxDepformerLogitDiff.toExponential(2), limit: `< ${logitLimit}`, pass: lm.maxDepformerLogitDiff < logitLimit },
      { name: 'rms text logit diff (teacher forced)', value: lm.rmsTextLogitDiff.toExponential(2), limit: 'info', pass: true },
      { name: 'rms depformer logit diff (teacher forced)', value: lm.rmsDepformerLogitDiff.toExponential(2), limit: 'info', pass: true },
      greedySteps === ref.lm.steps
        ? { name: 'greedy outputs matched', value: `${lm.greedyMatched}/${lm.greedyTotal}`, limit: 'all', pass: lm.greedyMatched === lm.greedyTotal }
        : { name: `greedy outputs matched, first ${greedySteps} steps`, value: `${greedyPrefix}/${greedySteps}`, limit: 'all', pass: greedyPrefix === greedySteps },
      { name: 'text pieces matched', value: `${textMatched}/${ref.lm.steps}`, limit: greedySteps === ref.lm.steps ? 'all' : 'info', pass: greedySteps !== ref.lm.steps || textMatched === ref.lm.steps },
    ];
    if (greedySteps !== ref.lm.steps) checks.push({ name: 'greedy outputs matched, all steps', value: `${lm.greedyMatched}/${lm.greedyTotal}`, limit: 'info', pass: true });
    await lmRunner.release();
    await codec.release();
    return { mimi, lm, textPiecesMatched: textMatched, textPiecesTotal: ref.lm.steps, pass: checks.every((c) => c.pass), checks };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/** Steps matched among the first `n` (each step's whole output frame). */
function matchedPrefix(got: (number[] | null)[], want: (number[] | null)[], n: number): number {
  let m = 0;
  for (let t = 0; t < n; t++) {
    const a = got[t] ?? null;
    const b = want[t] ?? null;
    if (a === null ? b === null : b !== null && a.length === b.length && a.every((v, i) => v === b[i])) m++;
  }
  return m;
}
