import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createRng, type Rng } from '../../../src/engine/sampling/rng.js';
import { argmax, sampleToken } from '../../../src/engine/sampling/sampler.js';

function softmax(logits: number[], t: number): number[] {
  const m = Math.max(...logits);
  const e = logits.map((l) => Math.exp((l - m) / t));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / s);
}

function frequencies(logits: Float32Array, opts: { temperature: number; topK: number }, draws: number, seed: number): number[] {
  const rng = createRng(seed);
  const counts = new Array<number>(logits.length).fill(0);
  for (let i = 0; i < draws; i++) counts[sampleToken(logits, 0, logits.length, opts, rng)]!++;
  return counts.map((c) => c / draws);
}

test('temperature 0 is greedy: the first index of the largest logit', () => {
  const rng = createRng(1);
  const logits = Float32Array.from([0.5, 3, -1, 3, 2]);
  for (let i = 0; i < 20; i++) assert.equal(sampleToken(logits, 0, logits.length, { temperature: 0, topK: 25 }, rng), 1);
  assert.equal(argmax(logits, 0, logits.length), 1);
  assert.equal(argmax(Float32Array.from([-Infinity, -Infinity]), 0, 2), 0);
  assert.equal(argmax(Float32Array.from([NaN, -5, NaN]), 0, 3), 1);
});

test('greedy sampling equals argmax on random logits', () => {
  const rng = createRng(2);
  const logits = new Float32Array(32000);
  for (let trial = 0; trial < 5; trial++) {
    for (let i = 0; i < logits.length; i++) logits[i] = rng.nextFloat() * 20 - 10;
    let best = 0;
    for (let i = 1; i < logits.length; i++) if (logits[i]! > logits[best]!) best = i;
    assert.equal(sampleToken(logits, 0, logits.length, { temperature: 0, topK: 25 }, rng), best);
  }
});

test('top-k 1 is greedy whatever the temperature', () => {
  const rng = createRng(3);
  const logits = Float32Array.from([1, 2, 2.5, 2.4, 0]);
  for (let i = 0; i < 50; i++) assert.equal(sampleToken(logits, 0, 5, { temperature: 5, topK: 1 }, rng), 2);
});

test('the same seed gives the same token sequence, different seeds differ', () => {
  const logits = Float32Array.from({ length: 2048 }, (_, i) => Math.sin(i * 0.37) * 3);
  const run = (seed: number) => {
    const rng = createRng(seed);
    return Array.from({ length: 50 }, () => sampleToken(logits, 0, logits.length, { temperature: 0.8, topK: 250 }, rng));
  };
  assert.deepEqual(run(99), run(99));
  assert.notDeepEqual(run(99), run(100));
});

test('a token outside the top-k is never sampled, and every top-k token is', () => {
  const rng = createRng(4);
  const logits = Float32Array.from({ length: 100 }, () => rng.nextFloat() * 4);
  const top = [...logits.keys()].sort((a, b) => logits[b]! - logits[a]! || a - b).slice(0, 5);
  const seen = new Set<number>();
  for (let i = 0; i < 5000; i++) {
    const t = sampleToken(logits, 0, logits.length, { temperature: 3, topK: 5 }, rng);
    assert.ok(top.includes(t), `sampled ${t}, outside the top 5 ${top}`);
    seen.add(t);
  }
  assert.equal(seen.size, 5);
});

test('empirical frequencies match softmax(logits / T)', () => {
  const raw = [1.0, 0.2, -0.5, 2.0, 0.0, 1.5];
  const logits = Float32Array.from(raw);
  for (const t of [0.7, 1.3]) {
    const freq = frequencies(logits, { temperature: t, topK: 100 }, 40000, 5);
    const p = softmax(raw, t);
    p.forEach((pi, i) => assert.ok(Math.abs(freq[i]! - pi) < 0.012, `T=${t} token ${i}: ${freq[i]} vs ${pi}`));
  }
});

test('with top-k the probabilities are renormalised over the k most probable', () => {
  const raw = [1.0, 0.2, -0.5, 2.0, 0.0, 1.5];
  const freq = frequencies(Float32Array.from(raw), { temperature: 0.9, topK: 3 }, 40000, 6);
  const top = [3, 5, 0];
  const p = softmax(top.map((i) => raw[i]!), 0.9);
  top.forEach((id, j) => assert.ok(Math.abs(freq[id]! - p[j]!) < 0.012, `token ${id}: ${freq[id]} vs ${p[j]}`));
  for (const id of [1, 2, 4]) assert.equal(freq[id], 0);
});

test('sampling reads only logits[offset, offset + length) and returns an index relative to offset', () => {
  const rng = createRng(7);
  const buf = new Float32Array(30).fill(100); // huge logits outside the slice
  for (let i = 10; i < 20; i++) buf[i] = i === 14 ? 5 : 0;
  assert.equal(sampleToken(buf, 10, 10, { temperature: 0, topK: 5 }, rng), 4);
  for (let i = 0; i < 200; i++) {
    const t = sampleToken(buf, 10, 10, { temperature: 1, topK: 3 }, rng);
    assert.ok(t >= 0 && t < 10);
  }
});

test('a log-probability bias multiplies one entry\'s probability by exp(bias), and greedy ignores it', () => {
  const raw = [0.5, 0.5, 0.5, 0.5];
  const logits = Float32Array.from(raw);
  const rng = createRng(8);
  const counts = [0, 0, 0, 0];
  const n = 40000;
  for (let i = 0; i < n; i++) counts[sampleToken(logits, 0, 4, { temperature: 0.5, topK: 4 }, rng, { index: 2, logProbBias: Math.log(3) })]!++;
  // Weights 1, 1, 3, 1.
  assert.ok(Math.abs(counts[2]! / n - 0.5) < 0.012, `biased entry: ${counts[2]! / n}`);
  assert.ok(Math.abs(counts[0]! / n - 1 / 6) < 0.012);
  assert.deepEqual(Array.from(logits), raw, 'logits are restored');
  assert.equal(sampleToken(logits, 0, 4, { temperature: 0, topK: 4 }, rng, { index: 2, logProbBias: 5 }), 0);
  // top-k 1 is argmax of the biased distribution, as the Rust server's top-k of biased probabilities.
  assert.equal(sampleToken(logits, 0, 4, { temperature: 0.5, topK: 1 }, rng, { index: 2, logProbBias: 0.1 }), 2);
});

/** An rng returning the given values in turn. */
function scripted(values: number[]): Rng {
  let i = 0;
  return { nextFloat: () => values[i++ % values.length]! };
}

test('the top-k selection keeps exactly the k largest logits (lowest index first on ties)', () => {
  // With a huge temperature every kept entry weighs ~1/k, so a fine grid of
  // draws reaches each of them and nothing else.
  fc.assert(
    fc.property(fc.array(fc.integer({ min: -4, max: 4 }), { minLength: 2, maxLength: 60 }), fc.integer({ min: 2, max: 70 }), (vals, k) => {
      const logits = Float32Array.from(vals);
      const kk = Math.min(k, vals.length);
      const expected = [...vals.keys()].sort((a, b) => vals[b]! - vals[a]! || a - b).slice(0, kk).sort((a, b) => a - b);
      const m = 8 * kk;
      const rng = scripted(Array.from({ length: m }, (_, j) => (j + 0.5) / m));
      const got = new Set<number>();
      for (let j = 0; j < m; j++) got.add(sampleToken(logits, 0, logits.length, { temperature: 1e7, topK: k }, rng));
      assert.deepEqual([...got].sort((a, b) => a - b), expected);
    }),
    { numRuns: 200, seed: 11 },
  );
});

test('NaN logits are never sampled and infinite ones do not break the draw', () => {
  const rng = createRng(9);
  const logits = Float32Array.from([NaN, 1, NaN, 2, -Infinity]);
  for (let i = 0; i < 200; i++) {
    const t = sampleToken(logits, 0, 5, { temperature: 1, topK: 10 }, rng);
    assert.ok(t === 1 || t === 3, `sampled ${t}`);
    const k2 = sampleToken(logits, 0, 5, { temperature: 1, topK: 2 }, rng);
    assert.ok(k2 === 1 || k2 === 3, `sampled ${k2}`);
  }
  assert.equal(sampleToken(Float32Array.from([0, Infinity, 3, Infinity]), 0, 4, { temperature: 1, topK: 3 }, rng), 1);
  assert.equal(sampleToken(Float32Array.from([-Infinity, -Infinity]), 0, 2, { temperature: 1, topK: 2 }, rng), 0);
});
