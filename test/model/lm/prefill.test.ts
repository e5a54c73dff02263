import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RandomWeights } from '../../../src/model/checkpoint/weights.js';
import { parseLmConfig } from '../../../src/model/lm/config.js';
import { embeddingIndices, embeddingLayout } from '../../../src/model/lm/embeddings.js';
import { LmRunner } from '../../../src/model/lm/lm-runner.js';
import { prefill } from '../../../src/model/lm/prefill.js';
import { writeSlot } from '../../../src/model/lm/prefill-cache.js';
import { KvRing } from '../../../src/model/runtime/kv-ring.js';
import { buildPrefillGraph } from '../../../src/model/lm/prefill-graph.js';
import { buildTemporalGraph } from '../../../src/model/lm/temporal-graph.js';
import { encodeModel } from '../../../src/model/onnx/serialize.js';
import { fixtureLmRunner } from '../../helpers/fixture.js';
import { fixturePrefillRunner, maxAbsDiff, stepHistory, stepOne, syntheticHistory } from './prefill-fixture.js';

const TOL = 1e-4;

test('writeSlot stores one slot exactly as KvRing.write does for that row of a batch, wrapping included', () => {
  const [L, slots, H, D, C] = [2, 3, 2, 3, 7];
  const a = new KvRing(L, slots, H, D, C);
  const b = new KvRing(L, slots, H, D, C);
  const exec = Uint8Array.of(0, 0, 1);
  let x = 0;
  for (const T of [3, 5, 9, 1]) { // 9 > C: only the last C stay
    const rows = Array.from({ length: L }, () => Float32Array.from({ length: slots * H * T * D }, () => ++x));
    const row2 = (l: number) => rows[l]!.subarray(2 * H * T * D, 3 * H * T * D);
    writeSlot(a, 2, T, row2, (l) => row2(l).map((v) => -v));
    for (let l = 0; l < L; l++) b.write(l, slots, T, rows[l]!, rows[l]!.map((v) => -v), exec);
    b.advance(slots, T, exec);
    assert.deepEqual(a.keys, b.keys, `T=${T}`);
    assert.deepEqual(a.values, b.values, `T=${T}`);
    assert.deepEqual(a.positions, b.positions);
  }
});

/**
 * Steps `history` then `after` frame by frame, and prefills `history` then
 * steps `after`, in slot `slot`; returns the largest logit difference over the
 * history's last frame and every frame after.
 */
async function prefillVsStepping(runner: LmRunner, slot: number, history: Int32Array, after: Int32Array, chunk: number): Promise<number> {
  const S = runner.dims.streams;
  const stepped = [await stepHistory(runner, slot, history)];
  for (let i = 0; i < after.length / S; i++) stepped.push(await stepOne(runner, slot, after.subarray(i * S, (i + 1) * S)));
  const pre = await prefill(runner, slot, history, { chunk });
  assert.equal(runner.temporalCache.positions[slot], history.length / S);
  let worst = maxAbsDiff(stepped[0]!, pre.textLogits);
  for (let i = 0; i < after.length / S; i++) {
    worst = Math.max(worst, maxAbsDiff(stepped[i + 1]!, await stepOne(runner, slot, after.subarray(i * S, (i + 1) * S))));
  }
  return worst;
}

test('prefill then decoding equals stepping the history frame by frame (fixture, context 40)', async () => {
  const runner = await fixturePrefillRunner(3);
  const d = runner.dims;
  const after = syntheticHistory(5, d.streams, d.textCard, d.card, 77);
  const cases = [
    { frames: 100, chunk: 16 }, // 2.5 contexts, uneven last chunk
    { frames: 30, chunk: 16 }, // within the context
    { frames: 100, chunk: 64 }, // a chunk longer than the context
    { frames: 45, chunk: 1 },
  ];
  for (const { frames, chunk } of cases) {
    const history = syntheticHistory(frames, d.streams, d.textCard, d.card, frames);
    const diff = await prefillVsStepping(runner, 2, history, after, chunk);
    assert.ok(diff < TOL, `${frames} frames, chunk ${chunk}: max logit diff ${diff}`);
  }
  await runner.release();
});

test('prefill touches only its slot; the batch decodes on as if each session had been stepped', async () => {
  const runner = await fixturePrefillRunner(3);
  const d = runner.dims;
  const S = d.streams;
  const histories = [50, 20, 70].map((n, s) => syntheticHistory(n, S, d.textCard, d.card, 10 + s));
  for (let s = 0; s < 3; s++) await stepHistory(runner, s, histories[s]!);
  const keysBefore = runner.temporalCache.keys.map((k) => k.slice());
  const positionsBefore = runner.temporalCache.positions.slice();
  await prefill(runner, 1, histories[1]!, { chunk: 8 });
  const size = keysBefore[0]!.length / 3;
  for (let l = 0; l < d.layers; l++) {
    for (const s of [0, 2]) {
      assert.deepEqual(runner.temporalCache.keys[l]!.subarray(s * size, (s + 1) * size), keysBefore[l]!.subarray(s * size, (s + 1) * size));
    }
  }
  assert.deepEqual(runner.temporalCache.positions, positionsBefore);
  // A batched step of all three after the prefill equals one after stepping every history.
  const next = syntheticHistory(1, S, d.textCard, d.card, 5);
  const idx = new BigInt64Array(3 * S);
  for (let s = 0; s < 3; s++) embeddingIndices(embeddingLayout(d), next, idx, s * S);
  const afterPrefill = (await runner.temporalStep(3, 1, idx)).textLogits.slice();
  for (let s = 0; s < 3; s++) await stepHistory(runner, s, histories[s]!);
  const afterStepping = (await runner.temporalStep(3, 1, idx)).textLogits;
  assert.ok(maxAbsDiff(afterPrefill, afterStepping) < TOL, `max diff ${maxAbsDiff(afterPrefill, afterStepping)}`);
  await runner.release();
});

test('prefill is exact past the context in a deeper model (random 4-layer config with layer scale)', async () => {
  const cfg = parseLmConfig({
    dim: 32, num_heads: 2, num_layers: 4, context: 12, text_card: 50, card: 20, n_q: 4, dep_q: 2,
    delays: [0, 0, 1, 1, 1], layer_scale: 0.1, depformer_dim: 16, depformer_num_heads: 2, depformer_num_layers: 1,
  }, 'test');
  const src = new RandomWeights(7, (name, shape) =>
    name.endsWith('.alpha') ? { constant: 1 } : name.includes('layer_scale') ? { constant: 0.5 } : { scale: 1 / Math.sqrt(shape[shape.length - 1]!) });
  const runner = await LmRunner.create(cfg, {
    temporal: encodeModel(buildTemporalGraph(cfg, src)),
    depformer: [],
    prefill: encodeModel(buildPrefillGraph(cfg, src, { moba: false })),
  }, 1, { provider: 'cpu', intraOpThreads: 1 });
  const d = runner.dims;
  const history = syntheticHistory(50, d.streams, d.textCard, d.card, 3);
  const after = syntheticHistory(3, d.streams, d.textCard, d.card, 4);
  const diff = await prefillVsStepping(runner, 0, history, after, 5);
  assert.ok(diff < TOL, `max logit diff ${diff}`);
  await runner.release();
});

test('prefill refuses bad input with clear errors', async () => {
  const runner = await fixturePrefillRunner(1);
  const d = runner.dims;
  const h = syntheticHistory(4, d.streams, d.textCard, d.card);
  await assert.rejects(prefill(runner, 0, h, { chunk: 0 }), /chunk must be a positive integer/);
  await assert.rejects(prefill(runner, 1, h, { chunk: 4 }), /slot 1 out of range/);
  await assert.rejects(prefill(runner, 0, new Int32Array(0), { chunk: 4 }), /whole number of frames/);
  await assert.rejects(prefill(runner, 0, h.subarray(1), { chunk: 4 }), /whole number of frames/);
  const bad = h.slice();
  bad[d.streams + 3] = d.card + 1;
  await assert.rejects(prefill(runner, 0, bad, { chunk: 4 }), /frame 1 stream 3: token 65 out of range/);
  await assert.rejects(prefill(runner, 0, h, { chunk: 4, moba: { blockSize: 0, topK: 2 } }), /block size/);
  await runner.release();
  const plain = await fixtureLmRunner(1);
  await stepOne(plain, 0, h.subarray(0, d.streams));
  await assert.rejects(prefill(plain, 0, h, { chunk: 4 }), /without the prefill graph/);
  await assert.rejects(prefill(plain, 0, h, { chunk: 4, moba: { blockSize: 4, topK: 2 } }), /without the prefillMoba graph/);
  assert.equal(plain.temporalCache.positions[0], 1, 'a refused prefill leaves the session as it was');
  await plain.release();
});
