import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RandomWeights } from '../../../src/model/checkpoint/weights.js';
import { streamingConvTr1d } from '../../../src/model/mimi/conv-graph.js';
import type { ConvTrSpec } from '../../../src/model/mimi/seanet-plan.js';
import { StreamStates, stateInputName, stateOutputName } from '../../../src/model/mimi/stream-state.js';
import { GraphBuilder } from '../../../src/model/onnx/graph-builder.js';
import { encodeModel } from '../../../src/model/onnx/serialize.js';
import { createSession, f32, outputF32 } from '../../../src/model/onnx/session.js';
import { maxAbsDiff } from '../../helpers/arrays.js';

const B = 2;
const CHUNKS = 3;

/** torch's ConvTranspose1d (no padding, groups 1) of a whole signal x [B, Cin, L]: [B, Cout, (L - 1) * S + K]. */
function convTranspose(x: Float32Array, L: number, w: Float32Array, bias: Float32Array, spec: ConvTrSpec): Float32Array {
  const { inCh, outCh, kernel: K, stride: S } = spec;
  const outL = (L - 1) * S + K;
  const y = new Float32Array(B * outCh * outL);
  for (let b = 0; b < B; b++) {
    for (let c = 0; c < outCh; c++) {
      const row = (b * outCh + c) * outL;
      y.fill(bias[c]!, row, row + outL);
      for (let ci = 0; ci < inCh; ci++) {
        for (let t = 0; t < L; t++) {
          const v = x[(b * inCh + ci) * L + t]!;
          for (let k = 0; k < K; k++) y[row + t * S + k]! += v * w[(ci * outCh + c) * K + k]!;
        }
      }
    }
  }
  return y;
}

/**
 * Streams CHUNKS chunks of T steps through the graph, carrying its state,
 * and compares the joined output with the whole signal's transposed
 * convolution, cut to the samples streaming has emitted (Moshi's
 * StreamingConvTranspose1d holds back the last K - S).
 */
async function checkStreamingConvTr(inCh: number, outCh: number, K: number, S: number, T: number): Promise<number> {
  const spec: ConvTrSpec = { kind: 'convtr', name: 'up', inCh, outCh, kernel: K, stride: S, groups: 1, bias: true };
  const weights = new RandomWeights(7, () => ({ scale: 0.5 }));
  const b = new GraphBuilder('convtr');
  const st = new StreamStates(b);
  const y = streamingConvTr1d(b, st, weights, spec, { x: b.input('x', 'float32', ['batch', inCh, T]), T });
  b.output(y.x, 'y', 'float32', ['batch', outCh, y.T]);
  const session = await createSession(encodeModel(b.build()), { provider: 'cpu', intraOpThreads: 1 });

  const L = CHUNKS * T;
  const x = new RandomWeights(11, () => ({ scale: 1 })).get('x', [B, inCh, L]);
  let states = new Map(st.specs.map((s) => [s.name, new Float32Array(B * s.shape.reduce((a, d) => a * d, 1)).fill(s.init)]));
  const streamed = new Float32Array(B * outCh * L * S);
  for (let chunk = 0; chunk < CHUNKS; chunk++) {
    const xs = new Float32Array(B * inCh * T);
    for (let r = 0; r < B * inCh; r++) xs.set(x.subarray(r * L + chunk * T, r * L + (chunk + 1) * T), r * T);
    const feeds: Record<string, ReturnType<typeof f32>> = { x: f32(xs, [B, inCh, T]) };
    for (const s of st.specs) feeds[stateInputName(s.name)] = f32(states.get(s.name)!, [B, ...s.shape]);
    const out = await session.run(feeds);
    const ys = outputF32(out, 'y');
    for (let r = 0; r < B * outCh; r++) streamed.set(ys.subarray(r * T * S, (r + 1) * T * S), r * L * S + chunk * T * S);
    states = new Map(st.specs.map((s) => [s.name, outputF32(out, stateOutputName(s.name)).slice()]));
  }
  const full = convTranspose(x, L, weights.get('up.weight', [inCh, outCh, K]), weights.get('up.bias', [outCh]), spec);
  const expected = new Float32Array(B * outCh * L * S);
  const fullL = (L - 1) * S + K;
  for (let r = 0; r < B * outCh; r++) expected.set(full.subarray(r * fullL, r * fullL + L * S), r * L * S);
  return maxAbsDiff(streamed, expected);
}

test('a streamed transposed conv with few steps per chunk (product path) equals the whole signal\'s ConvTranspose1d', async () => {
  assert.ok((await checkStreamingConvTr(6, 4, 16, 8, 2)) < 1e-5);
});

test('a streamed transposed conv with many steps per chunk (Conv path) equals the whole signal\'s ConvTranspose1d', async () => {
  assert.ok((await checkStreamingConvTr(5, 3, 8, 4, 20)) < 1e-5);
});

test('a transposed conv whose kernel spans three strides carries two input steps across chunks', async () => {
  assert.ok((await checkStreamingConvTr(4, 3, 9, 3, 18)) < 1e-5);
  assert.ok((await checkStreamingConvTr(4, 3, 9, 3, 4)) < 1e-5);
});
