import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HalfRoundedWeights, type WeightSource } from '../../../src/model/checkpoint/weights.js';

const source = (values: number[]): WeightSource => ({ label: 'mem', has: () => true, get: () => Float32Array.from(values) });

test('rounded weights are the nearest float16 values (ties to even), widened back to float32', () => {
  const w = new HalfRoundedWeights(source([1, 1 + 2 ** -11, 1 + 3 * 2 ** -11, 1 + 3 * 2 ** -12, 65504, 1e-8, -0.1]));
  assert.deepEqual([...w.get('x', [7])], [1, 1, 1 + 2 ** -9, 1 + 2 ** -10, 65504, 0, -0.0999755859375]);
  assert.match(w.label, /rounded to float16/);
});
