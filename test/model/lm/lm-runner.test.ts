import { test } from 'node:test';
import assert from 'node:assert/strict';
import { embeddingIndices, embeddingLayout } from '../../../src/model/lm/embeddings.js';
import { fixtureLmRunner } from '../../helpers/fixture.js';
import { maxAbsDiff } from '../../helpers/arrays.js';
import { tokensAt } from '../../helpers/lm-rows.js';

test('stepping frame by frame with the KV cache equals one full-sequence pass, past the context window', async () => {
  const runner = await fixtureLmRunner(1);
  const d = runner.dims;
  const layout = embeddingLayout(d);
  const T = 56; // the fixture's context is 40
  const all = new BigInt64Array(T * d.streams);
  for (let t = 0; t < T; t++) embeddingIndices(layout, tokensAt(1, t, d.streams, d.textCard, d.card), all, t * d.streams);

  runner.resetSlot(0);
  const stepped = new Float32Array(T * d.dim);
  for (let t = 0; t < T; t++) {
    const r = await runner.temporalStep(1, 1, all.subarray(t * d.streams, (t + 1) * d.streams));
    stepped.set(r.hidden, t * d.dim);
  }
  runner.resetSlot(0);
  const full = await runner.temporalStep(1, T, all);
  assert.ok(maxAbsDiff(stepped, full.hidden) < 1e-4, `max diff ${maxAbsDiff(stepped, full.hidden)}`);
  // And the cache the full pass left behind continues exactly like the stepped one.
  const next = new BigInt64Array(d.streams);
  embeddingIndices(layout, tokensAt(1, T, d.streams, d.textCard, d.card), next, 0);
  const afterFull = await runner.temporalStep(1, 1, next);
  runner.resetSlot(0);
  for (let t = 0; t < T; t++) await runner.temporalStep(1, 1, all.subarray(t * d.streams, (t + 1) * d.streams));
  const afterStepped = await runner.temporalStep(1, 1, next);
  assert.ok(maxAbsDiff(afterFull.hidden, afterStepped.hidden) < 1e-4);
  await runner.release();
});

test('a batch of sessions at different positions gives each what it gets alone', async () => {
  const runner = await fixtureLmRunner(3);
  const d = runner.dims;
  const layout = embeddingLayout(d);
  const starts = [0, 13, 45]; // steps already taken by each session before the shared steps
  const steps = 8;
  const alone: Float32Array[][] = [];
  for (let s = 0; s < 3; s++) {
    runner.resetSlot(0);
    const outs: Float32Array[] = [];
    for (let t = 0; t < starts[s]! + steps; t++) {
      const idx = new BigInt64Array(d.streams);
      embeddingIndices(layout, tokensAt(s + 2, t, d.streams, d.textCard, d.card), idx, 0);
      const r = await runner.temporalStep(1, 1, idx);
      if (t >= starts[s]!) outs.push(r.textLogits.slice());
    }
    alone.push(outs);
  }
  for (let s = 0; s < 3; s++) runner.resetSlot(s);
  // Bring each slot to its start position, one session at a time (exec masks keep the others still).
  for (let s = 0; s < 3; s++) {
    const exec = new Uint8Array(3);
    exec[s] = 1;
    for (let t = 0; t < starts[s]!; t++) {
      const idx = new BigInt64Array(3 * d.streams);
      embeddingIndices(layout, tokensAt(s + 2, t, d.streams, d.textCard, d.card), idx, s * d.streams);
      await runner.temporalStep(3, 1, idx, exec);
    }
  }
  for (let i = 0; i < steps; i++) {
    const idx = new BigInt64Array(3 * d.streams);
    for (let s = 0; s < 3; s++) embeddingIndices(layout, tokensAt(s + 2, starts[s]! + i, d.streams, d.textCard, d.card), idx, s * d.streams);
    const r = await runner.temporalStep(3, 1, idx);
    for (let s = 0; s < 3; s++) {
      const row = r.textLogits.subarray(s * d.textCard, (s + 1) * d.textCard);
      assert.ok(maxAbsDiff(row, alone[s]![i]!) < 1e-5, `session ${s} step ${i}: ${maxAbsDiff(row, alone[s]![i]!)}`);
    }
  }
  await runner.release();
});
