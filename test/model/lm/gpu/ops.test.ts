import { test } from 'node:test';
import assert from 'node:assert/strict';
import { splitCount, storedLinear } from '../../../../src/model/lm/gpu/ops.js';
import { GraphBuilder } from '../../../../src/model/onnx/graph-builder.js';
import { encodeModel } from '../../../../src/model/onnx/serialize.js';
import { createSession, f32 } from '../../../../src/model/onnx/session.js';

test('large inner dimensions are cut into at least four slices of at least 512, small ones are not', () => {
  assert.equal(splitCount(512), 1);
  assert.equal(splitCount(1024), 1);
  assert.equal(splitCount(4096), 8);
  assert.equal(splitCount(11264), 16);
  assert.equal(splitCount(3000), 4); // 750 per slice; 375 would be too small
  assert.equal(splitCount(2730), 1); // only two slices of 1365: not worth three more nodes
});

async function linearOf(inp: number, out: number, w: Float32Array): Promise<(x: Float32Array, B: number) => Promise<Float32Array>> {
  const b = new GraphBuilder('linear');
  const x = b.input('x', 'float32', ['B', inp]);
  b.output(storedLinear(b, x, 'w', { kind: 'dense', data: w }, out, inp, 'float32'), 'y', 'float32', ['B', out]);
  const s = await createSession(encodeModel(b.build()), { provider: 'cpu', intraOpThreads: 1 });
  return async (xs, B) => {
    const r = await s.run({ x: f32(xs, [B, inp]) });
    assert.deepEqual(r['y']!.dims, [B, out]);
    return r['y']!.data as Float32Array;
  };
}

test('a product split along its inner dimension equals x @ W', async () => {
  const inp = 4096;
  const out = 24;
  const B = 3;
  let s = 1;
  const rnd = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32) - 0.5;
  const w = Float32Array.from({ length: inp * out }, rnd);
  const x = Float32Array.from({ length: B * inp }, rnd);
  const expected = new Float64Array(B * out);
  for (let r = 0; r < B; r++) for (let i = 0; i < inp; i++) for (let o = 0; o < out; o++) expected[r * out + o]! += x[r * inp + i]! * w[i * out + o]!;
  const y = await (await linearOf(inp, out, w))(x, B);
  let worst = 0;
  for (let i = 0; i < y.length; i++) worst = Math.max(worst, Math.abs(y[i]! - expected[i]!));
  assert.ok(worst < 1e-3, `max diff ${worst}`);
});
