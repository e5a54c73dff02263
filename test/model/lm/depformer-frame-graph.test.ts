import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AudioDraws } from '../../../src/model/lm/depformer-frame.js';
import { embeddingIndices, embeddingLayout } from '../../../src/model/lm/embeddings.js';
import type { LmStepper } from '../../../src/model/lm/lm-stepper.js';
import { argmax } from '../../../src/engine/sampling/sampler.js';
import { referenceDraw } from '../../helpers/draw-reference.js';
import { fixtureLmRunner } from '../../helpers/fixture.js';
import { fixtureGpuRunner } from './gpu/fixture-gpu.js';
import { DEVICE_PROVIDERS } from '../../helpers/webgpu.js';

type Runner = Pick<LmStepper, 'dims' | 'temporalStep' | 'beginDepformer' | 'depformerStep' | 'depformerFrame'>;
const ROWS = 3;
const TEXT = Int32Array.of(5, -1, 17);

/** Hidden states of a real temporal step for ROWS rows. */
async function hiddenOf(runner: Runner): Promise<Float32Array> {
  const d = runner.dims;
  const layout = embeddingLayout(d);
  const idx = new BigInt64Array(ROWS * d.streams);
  for (let r = 0; r < ROWS; r++) embeddingIndices(layout, Array.from({ length: d.streams }, (_, s) => (r * 13 + s * 7) % (s === 0 ? d.textCard : d.card)), idx, r * d.streams);
  return (await runner.temporalStep(ROWS, 1, idx)).hidden;
}

/** The per-codebook graphs fed the given tokens (teacher forcing): each step's logits per row. */
async function stepLogits(runner: Runner, hidden: Float32Array, audio: Int32Array): Promise<Float32Array[]> {
  const Q = runner.dims.depQ;
  const prev = BigInt64Array.from(TEXT, (t) => BigInt(t));
  const out: Float32Array[] = [];
  runner.beginDepformer(ROWS);
  for (let k = 0; k < Q; k++) {
    out.push(Float32Array.from(await runner.depformerStep(k, ROWS, hidden, prev)));
    for (let r = 0; r < ROWS; r++) prev[r] = BigInt(audio[r * Q + k]!);
  }
  return out;
}

function draws(Q: number, greedy: boolean): AudioDraws {
  return {
    greedy: new Uint8Array(ROWS).fill(greedy ? 1 : 0),
    temperature: Float32Array.of(0.8, 1.2, 0.6),
    topK: Int32Array.of(250, 10, 3),
    uniforms: Float32Array.from({ length: ROWS * Q }, (_, i) => ((i * 0.618034) % 1)),
  };
}

async function greedyMatchesSteps(runner: Runner): Promise<void> {
  const d = runner.dims;
  const hidden = await hiddenOf(runner);
  const frame = await runner.depformerFrame(ROWS, hidden, TEXT, draws(d.depQ, true));
  const logits = await stepLogits(runner, hidden, frame);
  for (let k = 0; k < d.depQ; k++) {
    for (let r = 0; r < ROWS; r++) assert.equal(frame[r * d.depQ + k], argmax(logits[k]!, r * d.card, d.card), `codebook ${k} row ${r}`);
  }
}

test('the depformer frame graph, greedy, gives the argmax of every codebook step run one graph at a time', async () => {
  await greedyMatchesSteps(await fixtureLmRunner(ROWS));
});

for (const provider of DEVICE_PROVIDERS) {
  test(`with caches on the device the frame graph also gives the per-step argmax (${provider})`, async () => {
    await greedyMatchesSteps(await fixtureGpuRunner(ROWS, { provider }));
  });
}

test('the frame graph draws each codebook as sample_token would from that step\'s logits and the row\'s uniform', async () => {
  const runner = await fixtureLmRunner(ROWS);
  const d = runner.dims;
  const hidden = await hiddenOf(runner);
  const dr = draws(d.depQ, false);
  const frame = await runner.depformerFrame(ROWS, hidden, TEXT, dr);
  const logits = await stepLogits(runner, hidden, frame);
  let checked = 0;
  for (let k = 0; k < d.depQ; k++) {
    for (let r = 0; r < ROWS; r++) {
      const ref = referenceDraw(logits[k]!.subarray(r * d.card, (r + 1) * d.card), dr.temperature[r]!, dr.topK[r]!, dr.uniforms[r * d.depQ + k]!);
      if (ref.margin < 1e-4) continue;
      checked++;
      assert.equal(frame[r * d.depQ + k], ref.token, `codebook ${k} row ${r}`);
    }
  }
  assert.ok(checked >= 20, `only ${checked} draws were away from a step`);
  // Not all greedy: the draws must differ from the argmax somewhere.
  let differs = 0;
  for (let k = 0; k < d.depQ; k++) for (let r = 0; r < ROWS; r++) if (frame[r * d.depQ + k] !== argmax(logits[k]!, r * d.card, d.card)) differs++;
  assert.ok(differs > 0, 'every sampled token was the argmax');
});
