import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRng, SessionRng } from '../../../src/engine/sampling/rng.js';

const take = (r: SessionRng, n: number) => Array.from({ length: n }, () => r.nextUint32());

test('the generator core is xoshiro128** (reference outputs from state 1, 2, 3, 4)', () => {
  assert.deepEqual(take(SessionRng.fromState(1, 2, 3, 4), 8), [11520, 0, 5927040, 70819200, 2031721883, 1637235492, 1287239034, 3734860849]);
});

test('the same seed gives the same sequence, from a number or a bigint', () => {
  assert.deepEqual(take(createRng(42), 100), take(createRng(42n), 100));
  assert.deepEqual(take(new SessionRng(2n ** 64n - 1n), 20), take(createRng(2n ** 64n - 1n), 20));
});

test('different seeds give different sequences, including seeds differing only in their high 32 bits', () => {
  assert.notDeepEqual(take(createRng(1), 10), take(createRng(2), 10));
  assert.notDeepEqual(take(createRng(5n), 10), take(createRng(5n + (1n << 32n)), 10));
});

test('sessions are independent: drawing from one does not change another', () => {
  const a = createRng(7);
  const b = createRng(7);
  const expected = take(createRng(7), 10);
  take(a, 1000);
  assert.deepEqual(take(b, 10), expected);
});

test('without a seed each rng is seeded randomly', () => {
  const a = createRng();
  const b = createRng();
  assert.notEqual(a.seed, b.seed);
  assert.notDeepEqual(take(a, 4), take(b, 4));
});

test('nextFloat is uniform in [0, 1)', () => {
  const r = createRng(123);
  const bins = new Array<number>(10).fill(0);
  const n = 20000;
  for (let i = 0; i < n; i++) {
    const u = r.nextFloat();
    assert.ok(u >= 0 && u < 1);
    bins[Math.floor(u * 10)]!++;
  }
  for (const c of bins) assert.ok(Math.abs(c / n - 0.1) < 0.01, `bin frequency ${c / n}`);
});

test('unsafe number seeds are refused rather than rounded', () => {
  assert.throws(() => createRng(2 ** 60), RangeError);
});
