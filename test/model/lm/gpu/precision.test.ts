import { test } from 'node:test';
import assert from 'node:assert/strict';
import ort from 'onnxruntime-node';
import { dequantizeInt4, fromHalf, halfBits, halfToFloat, int4Block, quantizeInt4, toHalf } from '../../../../src/model/lm/gpu/precision.js';
import { A, GraphBuilder, MS_DOMAIN } from '../../../../src/model/onnx/graph-builder.js';
import { encodeModel } from '../../../../src/model/onnx/serialize.js';

test('float16 conversion rounds to nearest even and keeps the edges', () => {
  assert.equal(halfBits(1), 0x3c00);
  assert.equal(halfBits(-2), 0xc000);
  assert.equal(halfBits(65504), 0x7bff);
  assert.equal(halfBits(65520), 0x7c00); // rounds up to infinity
  assert.equal(halfBits(2 ** -24), 0x0001); // smallest subnormal
  assert.equal(halfBits(2 ** -26), 0x0000);
  assert.equal(halfBits(0.1), 0x2e66);
  assert.equal(halfBits(-Infinity), 0xfc00);
  assert.ok(Number.isNaN(halfToFloat(halfBits(NaN))));
  assert.equal(halfBits(1 + 2 ** -11), 0x3c00); // a tie goes to the even mantissa
  assert.equal(halfBits(1 + 3 * 2 ** -11), 0x3c02);
  const xs = Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i) * 10 ** ((i % 9) - 4));
  const back = fromHalf(toHalf(xs));
  xs.forEach((x, i) => assert.ok(Math.abs(back[i]! - x) <= Math.max(Math.abs(x) * 2 ** -11, 2 ** -25), `${x} -> ${back[i]}`));
});

test('int4 blocks dequantize within half a step, and MatMulNBits computes with them', async () => {
  const [N, K] = [24, 64];
  const block = int4Block(K)!;
  assert.equal(block, 32);
  assert.equal(int4Block(88), null); // 88 splits into neither 32 nor 16
  const w = Float32Array.from({ length: N * K }, (_, i) => Math.sin(i * 1.7) * 0.3);
  const q = quantizeInt4(w, N, K, block);
  const dq = dequantizeInt4(q, N, K);
  for (let i = 0; i < w.length; i++) {
    const s = q.scales[Math.floor(i / block)]!;
    assert.ok(Math.abs(dq[i]! - w[i]!) <= s / 2 + 1e-7, `element ${i}`);
  }
  // MatMulNBits(x, q) == x @ dequantized^T, on onnxruntime's CPU provider.
  const b = new GraphBuilder('nbits');
  const x = b.input('x', 'float32', [2, K]);
  const y = b.op1('MatMulNBits', [x, b.weight('q', q.packed, [N, K / block, block / 2], 'uint8'), b.weight('s', q.scales, [N * K / block])],
    { K: A.i(K), N: A.i(N), bits: A.i(4), block_size: A.i(block) }, MS_DOMAIN);
  b.output(y, 'y', 'float32', [2, N]);
  const s = await ort.InferenceSession.create(encodeModel(b.build()));
  const xv = Float32Array.from({ length: 2 * K }, (_, i) => Math.cos(i));
  const out = (await s.run({ x: new ort.Tensor('float32', xv, [2, K]) }))['y']!.data as Float32Array;
  for (let m = 0; m < 2; m++) {
    for (let n = 0; n < N; n++) {
      let ref = 0;
      for (let k = 0; k < K; k++) ref += xv[m * K + k]! * dq[n * K + k]!;
      assert.ok(Math.abs(out[m * N + n]! - ref) < 1e-4, `(${m}, ${n}): ${out[m * N + n]} vs ${ref}`);
    }
  }
  await s.release();
});
