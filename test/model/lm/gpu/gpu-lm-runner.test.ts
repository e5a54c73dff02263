import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { embeddingIndices, embeddingLayout } from '../../../../src/model/lm/embeddings.js';
import type { GpuLmRunner } from '../../../../src/model/lm/gpu-lm-runner.js';
import { lmParity } from '../../../../src/parity/lm-parity.js';
import { loadReference } from '../../../../src/parity/reference.js';
import { FIXTURE, fixtureLmConfig } from '../../../helpers/fixture.js';
import { fixtureGpuRunner } from './fixture-gpu.js';
import { maxAbsDiff } from '../../../helpers/arrays.js';
import { tokensAt } from '../../../helpers/lm-rows.js';
import { DEVICE_PROVIDERS, WEBGPU_SKIP } from '../../../helpers/webgpu.js';

const ref = loadReference(join(FIXTURE, 'reference.json'));

/** One temporal step for `rows` rows, row r fed seed[r]'s token stream at its own step count. */
async function stepRows(runner: GpuLmRunner, seeds: number[], steps: number[], exec?: Uint8Array): Promise<Float32Array> {
  const d = runner.dims;
  const layout = embeddingLayout(d);
  const idx = new BigInt64Array(seeds.length * d.streams);
  seeds.forEach((seed, r) => embeddingIndices(layout, tokensAt(seed, steps[r]!, d.streams, d.textCard, d.card), idx, r * d.streams));
  return (await runner.temporalStep(seeds.length, 1, idx, exec)).textLogits;
}

for (const provider of DEVICE_PROVIDERS) {
  test(`device-cache runner (float32) matches the reference past the context, its rings written in place (${provider})`, async () => {
    const runner = await fixtureGpuRunner(1, { provider });
    const cfg = fixtureLmConfig();
    assert.ok(ref.lm.steps > cfg.context + 1, 'the fixture runs past a full ring');
    const r = await lmParity(runner, cfg.delays, ref.lm);
    assert.ok(r.maxTextLogitDiff < 1e-4, `text ${r.maxTextLogitDiff}`);
    assert.ok(r.maxDepformerLogitDiff < 1e-4, `depformer ${r.maxDepformerLogitDiff}`);
    assert.equal(r.greedyMatched, r.greedyTotal);
    await runner.release();
  });

  test(`a ring shorter than the context attends to the last C frames, as a model with context C does (${provider})`, async () => {
    const C = 5;
    const short = await fixtureGpuRunner(1, { capacity: C, provider });
    const narrow = await fixtureGpuRunner(1, { context: C, provider });
    assert.equal(short.capacity, C);
    assert.ok(short.config.context > C);
    for (let t = 0; t < 3 * C; t++) {
      const a = await stepRows(short, [3], [t]);
      const b = await stepRows(narrow, [3], [t]);
      assert.ok(maxAbsDiff(a, b) < 1e-5, `step ${t}: ${maxAbsDiff(a, b)}`);
    }
    await short.release();
    await narrow.release();
  });

  test(`float16 weights and activations keep the fixture logits within 2e-2 (${provider})`, async () => {
    const runner = await fixtureGpuRunner(1, { precision: 'fp16', provider });
    const r = await lmParity(runner, fixtureLmConfig().delays, ref.lm);
    assert.ok(r.maxTextLogitDiff < 2e-2, `text ${r.maxTextLogitDiff}`);
    assert.ok(r.maxDepformerLogitDiff < 2e-2, `depformer ${r.maxDepformerLogitDiff}`);
    await runner.release();
  });

  test(`rows at different positions each get what they get alone; skipped rows keep their state (${provider})`, async () => {
    const starts = [0, 5, 12];
    const steps = 8;
    const solo = await fixtureGpuRunner(1, { provider });
    const d = solo.dims;
    const alone: Float32Array[][] = [];
    for (let s = 0; s < 3; s++) {
      solo.resetSlot(0);
      const outs: Float32Array[] = [];
      for (let t = 0; t < starts[s]! + steps; t++) {
        const logits = await stepRows(solo, [s + 2], [t]);
        if (t >= starts[s]!) outs.push(logits.slice());
      }
      alone.push(outs);
    }
    await solo.release();

    const runner = await fixtureGpuRunner(3, { provider });
    // Bring each row to its start, one at a time (the others skip: exec = 0).
    for (let s = 0; s < 3; s++) {
      const exec = new Uint8Array(3);
      exec[s] = 1;
      for (let t = 0; t < starts[s]!; t++) await stepRows(runner, [2, 3, 4], [t, t, t], exec);
    }
    for (let i = 0; i < steps; i++) {
      const logits = await stepRows(runner, [2, 3, 4], starts.map((s) => s + i));
      for (let s = 0; s < 3; s++) {
        const row = logits.subarray(s * d.textCard, (s + 1) * d.textCard);
        assert.ok(maxAbsDiff(row, alone[s]![i]!) < 1e-4, `row ${s} step ${i}: ${maxAbsDiff(row, alone[s]![i]!)}`);
      }
    }
    await runner.release();
  });

  test(`moveSlot carries a session to another row, caches included (${provider})`, async () => {
    const solo = await fixtureGpuRunner(1, { provider });
    const d = solo.dims;
    const want: Float32Array[] = [];
    for (let t = 0; t < 30; t++) want.push((await stepRows(solo, [7], [t])).slice());
    await solo.release();

    const runner = await fixtureGpuRunner(2, { provider });
    for (let t = 0; t < 20; t++) await stepRows(runner, [5, 7], [t, t]);
    runner.moveSlot(1, 0);
    runner.resetSlot(1);
    for (let t = 20; t < 30; t++) {
      const logits = await stepRows(runner, [7, 5], [t, t - 20]);
      const row = logits.subarray(0, d.textCard);
      assert.ok(maxAbsDiff(row, want[t]!) < 1e-4, `step ${t}: ${maxAbsDiff(row, want[t]!)}`);
    }
    await runner.release();
  });
}

test('int4 (MatMulNBits) graphs give on WebGPU the logits they give on the CPU, to float16 noise', { skip: WEBGPU_SKIP }, async () => {
  const cpu = await fixtureGpuRunner(2, { precision: 'int4' });
  const gpu = await fixtureGpuRunner(2, { precision: 'int4', provider: 'webgpu' });
  const fp16 = await fixtureGpuRunner(2, { precision: 'fp16', provider: 'webgpu' });
  let worst = 0;
  let quantized = 0;
  for (let t = 0; t < 12; t++) {
    const a = await stepRows(cpu, [3, 8], [t, t]);
    const b = await stepRows(gpu, [3, 8], [t, t]);
    worst = Math.max(worst, maxAbsDiff(a, b));
    quantized = Math.max(quantized, maxAbsDiff(b, await stepRows(fp16, [3, 8], [t, t])));
  }
  assert.ok(worst < 2e-2, `int4 on WebGPU against the CPU: ${worst}`);
  // 4-bit weights move the logits far more than that: the comparison above is not between two float16 runs.
  assert.ok(quantized > 10 * worst, `int4 against float16: ${quantized}, providers: ${worst}`);
  for (const r of [cpu, gpu, fp16]) await r.release();
});
