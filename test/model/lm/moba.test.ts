import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mobaSelection } from '../../../src/model/graphs/blocks/moba-selection.js';
import { mobaBlocks } from '../../../src/model/lm/moba/blocks.js';
import { prefill } from '../../../src/model/lm/prefill.js';
import { pastBias, ringPositions } from '../../../src/model/lm/prefill-cache.js';
import { GraphBuilder } from '../../../src/model/onnx/graph-builder.js';
import { encodeModel } from '../../../src/model/onnx/serialize.js';
import { createSession, f32, i64, outputF32 } from '../../../src/model/onnx/session.js';
import { KvRing } from '../../../src/model/runtime/kv-ring.js';
import { fixturePrefillRunner, maxAbsDiff, stepHistory, stepOne, syntheticHistory } from './prefill-fixture.js';

test('ring columns map to the absolute positions the ring stored there, and visibility matches KvRing.bias', () => {
  const C = 7;
  const ring = new KvRing(1, 1, 1, 1, C);
  for (let p = 0; p < 30; p++) {
    const positions = ringPositions(p, C);
    // Each column holds the key written at the position ringPositions names (keys encode their position).
    for (let j = 0; j < C; j++) assert.equal(positions[j], p > j ? ring.keys[0]![j]! : -1, `p=${p} column ${j}`);
    for (const T of [1, 3, 9]) assert.deepEqual(pastBias(positions, p, T, C), ring.bias(1, T), `p=${p} T=${T}`);
    ring.write(0, 1, 1, Float32Array.of(p), Float32Array.of(p));
    ring.advance(1, 1);
  }
});

test('MoBA blocks are spans of absolute positions, relative to the first block the pass can see', () => {
  // Ring of 8 at position 13: columns hold positions 8..12 and 5..7 (column j holds 8 + j, or j for j >= 5).
  const past = ringPositions(13, 8);
  assert.deepEqual([...past], [8, 9, 10, 11, 12, 5, 6, 7]);
  const blocks = mobaBlocks(past, 13, 4, 4, 8);
  // Position 5 has left every query's window (13 - 5 = 8); blocks of 4 from position 4 (block 1) on.
  assert.deepEqual([...blocks.past].map(Number), [1, 1, 1, 1, 2, -1, 0, 0]);
  assert.deepEqual([...blocks.fresh].map(Number), [2, 2, 2, 3]);
  // An empty cache: only the new frames, from block 0.
  const fresh = mobaBlocks(new Int32Array(0), 0, 6, 4, 8);
  assert.deepEqual([...fresh.fresh].map(Number), [0, 0, 0, 0, 1, 1]);
});

/** Plain-JS MoBA selection for one batch row: bias [H, T, P + T] (past columns, then new keys). */
function referenceSelection(
  q: Float32Array, pastK: Float32Array, newK: Float32Array, pastBlock: number[], newBlock: number[], topK: number,
  H: number, T: number, P: number, Dh: number,
): Float32Array {
  const keyBlock = [...pastBlock, ...newBlock];
  const key = (h: number, j: number, d: number) => (j < P ? pastK[(h * P + j) * Dh + d]! : newK[(h * T + j - P) * Dh + d]!);
  const out = new Float32Array(H * T * (P + T));
  for (let h = 0; h < H; h++) {
    const sums = new Map<number, { sum: number[]; n: number }>();
    keyBlock.forEach((blk, j) => {
      if (blk < 0) return;
      const e = sums.get(blk) ?? { sum: new Array<number>(Dh).fill(0), n: 0 };
      for (let d = 0; d < Dh; d++) e.sum[d]! += key(h, j, d);
      e.n++;
      sums.set(blk, e);
    });
    for (let t = 0; t < T; t++) {
      const own = newBlock[t]!;
      const gate = (blk: number) => sums.get(blk)!.sum.reduce((a, s, d) => a + (s / sums.get(blk)!.n) * q[(h * T + t) * Dh + d]!, 0);
      const earlier = [...sums.keys()].filter((blk) => blk < own).sort((a, b) => gate(b) - gate(a));
      const chosen = new Set([own, ...earlier.slice(0, topK - 1)]);
      for (let j = 0; j < P + T; j++) out[(h * T + t) * (P + T) + j] = chosen.has(keyBlock[j]!) ? 0 : -Infinity;
    }
  }
  return out;
}

test('the MoBA selection graph block matches a plain implementation (own block kept, later blocks excluded, top-k by gate)', async () => {
  const H = 2, T = 6, P = 10, Dh = 4;
  const b = new GraphBuilder('moba_test');
  const q = b.input('q', 'float32', [1, H, T, Dh]);
  const pastK = b.input('past_k', 'float32', [1, H, P, Dh]);
  const newK = b.input('new_k', 'float32', [1, H, T, Dh]);
  const blocks = {
    pastBlock: b.input('past_block', 'int64', [1, P]),
    newBlock: b.input('new_block', 'int64', [1, T]),
    topK: b.input('top_k', 'int64', [1]),
  };
  const sel = mobaSelection(b, { blocks, pastK, q, newK });
  b.output(sel.past, 'past', 'float32', [1, H, T, P]);
  b.output(sel.self, 'self', 'float32', [1, H, T, T]);
  const session = await createSession(encodeModel(b.build()), { provider: 'cpu', intraOpThreads: 1 });

  let seed = 5;
  const rand = (n: number) => Float32Array.from({ length: n }, () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1);
  const data = { q: rand(H * T * Dh), pastK: rand(H * Dh * P), newK: rand(H * T * Dh) };
  // Blocks of 3 in a ring: columns out of order, one empty column, the pass's last past block shared with new keys.
  const pastBlock = [2, 2, 3, -1, 0, 0, 0, 1, 1, 1];
  const newBlock = [3, 3, 4, 4, 4, 5];
  for (const topK of [1, 2, 3, 4, 9]) {
    const out = await session.run({
      q: f32(data.q, [1, H, T, Dh]), past_k: f32(data.pastK, [1, H, P, Dh]), new_k: f32(data.newK, [1, H, T, Dh]),
      past_block: i64(BigInt64Array.from(pastBlock.map(BigInt)), [1, P]),
      new_block: i64(BigInt64Array.from(newBlock.map(BigInt)), [1, T]),
      top_k: i64(BigInt64Array.of(BigInt(topK)), [1]),
    });
    const ref = referenceSelection(data.q, data.pastK, data.newK, pastBlock, newBlock, topK, H, T, P, Dh);
    const past = outputF32(out, 'past');
    const self = outputF32(out, 'self');
    for (let r = 0; r < H * T; r++) {
      assert.deepEqual([...past.subarray(r * P, (r + 1) * P)], [...ref.subarray(r * (P + T), r * (P + T) + P)], `top-${topK}, row ${r}, past`);
      assert.deepEqual([...self.subarray(r * T, (r + 1) * T)], [...ref.subarray(r * (P + T) + P, (r + 1) * (P + T))], `top-${topK}, row ${r}, new`);
    }
    if (topK === 1) assert.ok(past.every((x, i) => x === -Infinity || pastBlock[i % P] === newBlock[Math.floor(i / P) % T]));
  }
  await session.release();
});

test('MoBA with top-k >= the number of blocks equals full attention, past the context window', async () => {
  const runner = await fixturePrefillRunner(2);
  const d = runner.dims;
  const history = syntheticHistory(100, d.streams, d.textCard, d.card, 21);
  const after = syntheticHistory(3, d.streams, d.textCard, d.card, 22);
  const stepped = await stepHistory(runner, 1, history);
  const steppedAfter = [];
  for (let i = 0; i < 3; i++) steppedAfter.push(await stepOne(runner, 1, after.subarray(i * d.streams, (i + 1) * d.streams)));
  // A pass sees at most 39 past + 16 new = 55 positions: 8 blocks of 8, 3 of 32, 2 of 64.
  for (const moba of [{ blockSize: 8, topK: 8 }, { blockSize: 32, topK: 3 }, { blockSize: 64, topK: 2 }]) {
    const r = await prefill(runner, 1, history, { chunk: 16, moba });
    assert.ok(maxAbsDiff(r.textLogits, stepped) < 1e-4, `${JSON.stringify(moba)}: ${maxAbsDiff(r.textLogits, stepped)}`);
    for (let i = 0; i < 3; i++) {
      const next = await stepOne(runner, 1, after.subarray(i * d.streams, (i + 1) * d.streams));
      assert.ok(maxAbsDiff(next, steppedAfter[i]!) < 1e-4, `${JSON.stringify(moba)} decode ${i}`);
    }
  }
  await runner.release();
});

test('MoBA with a small top-k prunes: logits differ from full attention, and stay finite', async () => {
  const runner = await fixturePrefillRunner(1);
  const d = runner.dims;
  const history = syntheticHistory(100, d.streams, d.textCard, d.card, 31);
  const full = await prefill(runner, 0, history, { chunk: 16 });
  for (const moba of [{ blockSize: 4, topK: 2 }, { blockSize: 8, topK: 1 }]) {
    const r = await prefill(runner, 0, history, { chunk: 16, moba });
    const diff = maxAbsDiff(r.textLogits, full.textLogits);
    assert.ok(Number.isFinite(diff) && diff > 1e-3, `${JSON.stringify(moba)}: diff ${diff}`);
    assert.ok(r.hidden.every(Number.isFinite));
    const next = await stepOne(runner, 0, history.subarray(0, d.streams).map((t) => Math.max(t, 0)));
    assert.ok(next.every(Number.isFinite));
  }
  await runner.release();
});

test('within the context, MoBA does not depend on how the history is chunked', async () => {
  const runner = await fixturePrefillRunner(1);
  const d = runner.dims;
  const history = syntheticHistory(38, d.streams, d.textCard, d.card, 41);
  const moba = { blockSize: 5, topK: 2 };
  const ref = await prefill(runner, 0, history, { chunk: 38, moba });
  for (const chunk of [1, 4, 16]) {
    const r = await prefill(runner, 0, history, { chunk, moba });
    assert.ok(maxAbsDiff(r.textLogits, ref.textLogits) < 1e-4, `chunk ${chunk}: ${maxAbsDiff(r.textLogits, ref.textLogits)}`);
  }
  await runner.release();
});
