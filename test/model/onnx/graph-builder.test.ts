import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, statSync } from 'node:fs';
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

test('tables read by row (Gather) stay in the model file while product weights go external', async () => {
  const b = new GraphBuilder('rows');
  const tokens = b.input('tokens', 'int64', [2]);
  const table = Float32Array.from({ length: 1000 * 16 }, (_, i) => i);
  const w = Float32Array.from({ length: 16 * 300 }, (_, i) => (i % 5) - 2);
  const rows = b.gather(b.weight('emb', table, [1000, 16]), tokens, 0);
  b.output(b.matmul(rows, b.weight('w', w, [16, 300])), 'y', 'float32', [2, 300]);
  const dir = mkdtempSync(join(tmpdir(), 'parley-onnx-'));
  const path = join(dir, 'rows.onnx');
  writeModel(b.build(), path, true);
  // The external file holds the product's weight only; the 64 KB table is in the model file.
  assert.equal(statSync(`${path}.data`).size, w.byteLength);
  assert.ok(statSync(path).size > table.byteLength);
  const session = await ort.InferenceSession.create(path);
  const out = await session.run({ tokens: new ort.Tensor('int64', BigInt64Array.from([7n, 999n]), [2]) });
  const y = out['y']!.data as Float32Array;
  const expect = (row: number, col: number) => {
    let s = 0;
    for (let k = 0; k < 16; k++) s += table[row * 16 + k]! * w[k * 300 + col]!;
    return s;
  };
  assert.equal(y[0], expect(7, 0));
  assert.equal(y[300 + 299], expect(999, 299));
});

test('duplicate input names are rejected', () => {
  const b = new GraphBuilder('dup');
  b.input('x', 'float32', [1]);
  assert.throws(() => b.input('x', 'float32', [1]), /duplicate graph input x/);
});
