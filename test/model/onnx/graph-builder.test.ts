import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { GraphBuilder } from '../../../src/model/onnx/graph-builder.js';
import { encodeModel, writeModel } from '../../../src/model/onnx/serialize.js';

function linearGraph(): GraphBuilder {
  const b = new GraphBuilder('linear');
  const x = b.input('x', 'float32', ['batch', 3]);
  const w = b.weight('w', Float32Array.from({ length: 3 * 300 }, (_, i) => (i % 7) - 3), [3, 300]);
  const y = b.scope('block', () => b.add(b.matmul(x, w), b.constF32(1)));
  b.output(y, 'y', 'float32', ['batch', 300]);
  return b;
}

test('a built graph runs in onnxruntime and computes x·W + 1', async () => {
  const session = await ort.InferenceSession.create(encodeModel(linearGraph().build()));
  const out = await session.run({ x: new ort.Tensor('float32', Float32Array.from([1, 2, 3]), [1, 3]) });
  const y = out['y']!.data as Float32Array;
  // column 0 of W is rows (0, 300, 600) -> values (-3, (300%7)-3, (600%7)-3)
  const w = (i: number) => (i % 7) - 3;
  assert.equal(y[0], 1 * w(0) + 2 * w(300) + 3 * w(600) + 1);
  assert.equal(y.length, 300);
});

test('large weights go to an external data file that onnxruntime resolves', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-onnx-'));
  const path = join(dir, 'linear.onnx');
  writeModel(linearGraph().build(), path, true);
  const session = await ort.InferenceSession.create(path);
  const out = await session.run({ x: new ort.Tensor('float32', Float32Array.from([0, 0, 1]), [1, 3]) });
  assert.equal((out['y']!.data as Float32Array)[1], ((601 % 7) - 3) + 1);
});

test('duplicate input names are rejected', () => {
  const b = new GraphBuilder('dup');
  b.input('x', 'float32', [1]);
  assert.throws(() => b.input('x', 'float32', [1]), /duplicate graph input x/);
});
