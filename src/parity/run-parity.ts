import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkpointSource, convertModel } from '../model/convert.js';
import { LmRunner } from '../model/lm/lm-runner.js';
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

/**
 * Converts a fixture checkpoint with the real conversion path, loads the
 * result as the server would, and compares everything with reference.json.
 */
export async function runParity(fixtureDir: string, opts: SessionOptions = { provider: 'cpu', intraOpThreads: 1 }): Promise<ParityReport> {
  const ref = loadReference(join(fixtureDir, 'reference.json'));
  const out = mkdtempSync(join(tmpdir(), 'parley-parity-'));
  try {
    convertModel(checkpointSource(fixtureDir), out);
    const model = loadModelDir(out);
    const codec = await MimiRunner.create({ encoder: model.path(model.manifest.files.mimiEncoder), decoder: model.path(model.manifest.files.mimiDecoder) }, model.mimi, 1, opts);
    const mimi = await mimiParity(codec, ref.mimi);
    const lmRunner = await LmRunner.create(model.lm, {
      temporal: model.path(model.manifest.files.temporal),
      depformer: model.manifest.files.depformer.map((f) => model.path(f)),
    }, 1, opts);
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
    const checks = [
      { name: 'Mimi codes matched', value: `${mimi.codesMatched}/${mimi.codesTotal}`, limit: 'all', pass: mimi.codesMatched === mimi.codesTotal },
      { name: 'decoded PCM rel. L2 error', value: mimi.pcmRelL2.toExponential(2), limit: `< ${TOLERANCE.pcmRelL2}`, pass: mimi.pcmRelL2 < TOLERANCE.pcmRelL2 },
      { name: 'max text logit diff (teacher forced)', value: lm.maxTextLogitDiff.toExponential(2), limit: `< ${TOLERANCE.logit}`, pass: lm.maxTextLogitDiff < TOLERANCE.logit },
      { name: 'max depformer logit diff (teacher forced)', value: lm.maxDepformerLogitDiff.toExponential(2), limit: `< ${TOLERANCE.logit}`, pass: lm.maxDepformerLogitDiff < TOLERANCE.logit },
      { name: 'greedy outputs matched', value: `${lm.greedyMatched}/${lm.greedyTotal}`, limit: 'all', pass: lm.greedyMatched === lm.greedyTotal },
      { name: 'text pieces matched', value: `${textMatched}/${ref.lm.steps}`, limit: 'all', pass: textMatched === ref.lm.steps },
    ];
    await lmRunner.release();
    await codec.release();
    return { mimi, lm, textPiecesMatched: textMatched, textPiecesTotal: ref.lm.steps, pass: checks.every((c) => c.pass), checks };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}
