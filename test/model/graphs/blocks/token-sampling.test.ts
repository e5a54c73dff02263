import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sampleTokens } from '../../../../src/model/graphs/blocks/token-sampling.js';
import { GraphBuilder } from '../../../../src/model/onnx/graph-builder.js';
import { encodeModel } from '../../../../src/model/onnx/serialize.js';
import { createSession, f32, i64, outputI32 } from '../../../../src/model/onnx/session.js';
import { referenceDraw } from '../../../helpers/draw-reference.js';

const N = 64;

async function sampler() {
  const b = new GraphBuilder('sampling');
  const logits = b.input('logits', 'float32', ['B', N]);
  const u = b.input('u', 'float32', ['B', 1]);
  const tokens = sampleTokens(b, logits, u, {
    invTemperature: b.input('inv_t', 'float32', ['B', 1]),
    rankMask: b.input('mask', 'float32', ['B', 'K']),
    topK: b.input('k', 'int64', [1]),
  });
  b.output(tokens, 'tokens', 'int32', ['B']);
  const session = await createSession(encodeModel(b.build()), { provider: 'cpu', intraOpThreads: 1 });
  /** One call over rows with their own temperature, top-k and u. */
  return async (rows: { logits: Float32Array; temperature: number; topK: number; u: number }[]): Promise<Int32Array> => {
    const B = rows.length;
    const kOf = (r: (typeof rows)[number]) => (!(r.temperature > 0) || r.topK === 1 ? 1 : r.topK <= 0 ? N : Math.min(r.topK, N));
    const K = Math.max(...rows.map(kOf));
    const mask = new Float32Array(B * K);
    rows.forEach((r, i) => mask.fill(1, i * K, i * K + kOf(r)));
    const logits = new Float32Array(B * N);
    rows.forEach((r, i) => logits.set(r.logits, i * N));
    const out = await session.run({
      logits: f32(logits, [B, N]),
      u: f32(Float32Array.from(rows, (r) => (kOf(r) === 1 ? 0 : r.u)), [B, 1]),
      inv_t: f32(Float32Array.from(rows, (r) => (r.temperature > 0 ? 1 / r.temperature : 1)), [B, 1]),
      mask: f32(mask, [B, K]),
      k: i64(BigInt64Array.of(BigInt(K)), [1]),
    });
    return outputI32(out, 'tokens');
  };
}

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function randomLogits(next: () => number, scale = 4): Float32Array {
  return Float32Array.from({ length: N }, () => (next() - 0.5) * 2 * scale);
}

test('greedy rows take the first largest logit, whatever their u', async () => {
  const run = await sampler();
  const tie = new Float32Array(N).fill(-1);
  tie[9] = 3;
  tie[40] = 3;
  const out = await run([
    { logits: tie, temperature: 0, topK: 250, u: 0.99 },
    { logits: tie, temperature: 0.8, topK: 1, u: 0.99 },
  ]);
  assert.deepEqual([...out], [9, 9]);
});

test('sampled rows draw what the inverse CDF over their top-k gives for their u, with each row its own settings', async () => {
  const run = await sampler();
  const next = rng(7);
  let checked = 0;
  for (let round = 0; round < 40; round++) {
    const rows = Array.from({ length: 5 }, (_, i) => ({
      logits: randomLogits(next),
      temperature: [0.5, 0.8, 1, 1.3, 2][i]!,
      topK: [3, 10, 25, 0, 64][(i + round) % 5]!,
      u: next(),
    }));
    const out = await run(rows);
    rows.forEach((r, i) => {
      const ref = referenceDraw(r.logits, r.temperature, r.topK, r.u);
      if (ref.margin < 1e-5) return; // float32 may round across a step this close
      checked++;
      assert.equal(out[i], ref.token, `round ${round} row ${i} (T ${r.temperature}, k ${r.topK}, u ${r.u})`);
    });
  }
  assert.ok(checked > 190, `only ${checked} draws were away from a step`);
});

test('draws never leave the row\'s top-k and follow its probabilities', async () => {
  const run = await sampler();
  const logits = randomLogits(rng(3), 2);
  const temperature = 0.9;
  const topK = 6;
  const M = 3000;
  const rows = Array.from({ length: M }, (_, i) => ({ logits, temperature, topK, u: (i + 0.5) / M }));
  const out = await run(rows);
  const order = Array.from({ length: N }, (_, i) => i).sort((a, b) => logits[b]! - logits[a]!); // the top-k, most probable first
  const allowed = new Set(order.slice(0, topK));
  const w = order.slice(0, topK).map((i) => Math.exp((logits[i]! - logits[order[0]!]!) / temperature));
  const total = w.reduce((a, b) => a + b, 0);
  const counts = new Map<number, number>();
  for (const t of out) {
    assert.ok(allowed.has(t), `token ${t} is outside the top ${topK}`);
    counts.set(t, (counts.get(t) ?? 0) + 1);
  }
  order.slice(0, topK).forEach((tok, j) => {
    const p = w[j]! / total;
    assert.ok(Math.abs((counts.get(tok) ?? 0) / M - p) <= 1.5 / M, `token ${tok}: frequency ${(counts.get(tok) ?? 0) / M} against probability ${p}`);
  });
});
