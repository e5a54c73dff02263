import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ringChunkBias } from '../../../src/model/mimi/ring-bias.js';

/**
 * The positions each query of a chunk attends to in Moshi's RingKVCache +
 * StreamingMultiheadAttention (transformer.py), written as the reference
 * computes them: write the chunk at (p + t) % C, label each slot with its
 * position, mask by pos >= 0, causality and delta < context.
 */
function referenceVisible(p: number, T: number, C: number): number[][] {
  const lastOffset = p + T - 1;
  const endIndex = lastOffset % C;
  const posK: number[] = [];
  for (let j = 0; j < C; j++) {
    const delta = j - endIndex;
    let pos = delta <= 0 ? lastOffset + delta : lastOffset + delta - C;
    if (j >= p + T) pos = -1;
    posK.push(pos);
  }
  const out: number[][] = [];
  for (let t = 0; t < T; t++) {
    const q = p + t;
    out.push(posK.filter((k) => k >= 0 && q - k >= 0 && q - k < C).sort((a, b) => a - b));
  }
  return out;
}

/** The same, from the bias over the pre-chunk ring plus causal attention among the new tokens. */
function ourVisible(p: number, T: number, C: number): number[][] {
  const bias = ringChunkBias([p], 1, T, C);
  const out: number[][] = [];
  for (let t = 0; t < T; t++) {
    const seen: number[] = [];
    for (let j = 0; j < C; j++) {
      if (bias[t * C + j] === 0) seen.push(p - 1 - ((((p - 1 - j) % C) + C) % C));
    }
    for (let u = 0; u <= t; u++) seen.push(p + u);
    out.push(seen.sort((a, b) => a - b));
  }
  return out;
}

test('the chunk attention bias sees exactly what the reference ring cache sees, across wrap-around', () => {
  for (const C of [1, 2, 3, 5, 8]) {
    for (let T = 1; T <= C; T++) {
      for (let p = 0; p < 4 * C + 3; p++) {
        assert.deepEqual(ourVisible(p, T, C), referenceVisible(p, T, C), `C=${C} T=${T} p=${p}`);
      }
    }
  }
});

test('with two new tokens per chunk the first query of a wrapped ring loses the overwritten slot', () => {
  // C = 4, p = 6: the ring holds 2..5; writing 6 and 7 overwrites 2 and 3.
  const bias = ringChunkBias([6], 1, 2, 4);
  const visible = [...bias.subarray(0, 4)].filter((v) => v === 0).length;
  assert.equal(visible, 2);
});
