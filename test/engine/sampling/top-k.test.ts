import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { TopKSelector } from '../../../src/engine/sampling/top-k.js';

/** The k largest non-NaN entries by brute force, lowest index first among equals. */
function expectedTopK(vals: number[], k: number): number[] {
  return [...vals.keys()]
    .filter((i) => !Number.isNaN(vals[i]))
    .sort((a, b) => (vals[b]! > vals[a]! ? 1 : vals[b]! < vals[a]! ? -1 : a - b))
    .slice(0, k)
    .sort((a, b) => a - b);
}

function selected(sel: TopKSelector, logits: Float32Array, offset: number, length: number, k: number): number[] {
  const n = sel.select(logits, offset, length, k);
  const got = Array.from(sel.indices.subarray(0, n)).sort((a, b) => a - b);
  // The recorded values are the logits at those indices.
  for (let j = 0; j < n; j++) assert.ok(Object.is(sel.keys[j], logits[offset + sel.indices[j]!]));
  return got;
}

const value = fc.oneof(
  { weight: 20, arbitrary: fc.integer({ min: -6, max: 6 }).map((x) => x / 2) }, // many ties
  { weight: 5, arbitrary: fc.float({ min: -30, max: 30, noNaN: true }) },
  { weight: 1, arbitrary: fc.constantFrom(Number.NaN, Infinity, -Infinity, -1e30) },
);

for (const strategy of ['heap', 'histogram', 'auto'] as const) {
  test(`${strategy} selection keeps exactly the k largest entries, lowest index first on ties`, () => {
    const sel = new TopKSelector(strategy);
    fc.assert(
      fc.property(fc.array(value, { minLength: 1, maxLength: 300 }), fc.integer({ min: 1, max: 320 }), fc.nat(3), (vals, k, pad) => {
        // The slice sits between other values that must never be picked.
        const logits = new Float32Array(vals.length + 2 * pad).fill(1e9);
        logits.set(vals, pad);
        const vals32 = Array.from(logits.subarray(pad, pad + vals.length));
        assert.deepEqual(selected(sel, logits, pad, vals.length, k), expectedTopK(vals32, k));
      }),
      { numRuns: 300, seed: 7 },
    );
  });
}

test('audio- and text-sized selections agree with brute force', () => {
  let x = 1;
  const rand = () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32) * 10 - 5;
  const sel = new TopKSelector();
  for (const [n, k] of [[2048, 250], [32000, 25], [32000, 1000]] as const) {
    const logits = Float32Array.from({ length: n }, rand);
    assert.deepEqual(selected(sel, logits, 0, n, k), expectedTopK(Array.from(logits), k));
  }
});
