// Which formulation of one-query attention over a long cache runs fastest in onnxruntime CPU?
import ort from 'onnxruntime-node';
import { GraphBuilder } from '../src/model/onnx/graph-builder.js';
import { encodeModel } from '../src/model/onnx/serialize.js';
import { createSession } from '../src/model/onnx/session.js';

const N = 32, C = 3000, D = 64;
async function time(name: string, build: (b: GraphBuilder) => void, feeds: Record<string, ort.Tensor>) {
  const b = new GraphBuilder(name);
  build(b);
  const s = await createSession(encodeModel(b.build()), { provider: 'cpu', intraOpThreads: Number(process.argv[2] ?? 1) });
  for (let i = 0; i < 3; i++) await s.run(feeds);
  const t0 = performance.now();
  const R = 20;
  for (let i = 0; i < R; i++) await s.run(feeds);
  const ms = (performance.now() - t0) / R;
  console.log(`${name.padEnd(40)} ${ms.toFixed(2)} ms  ${(N * C * D * 4 / ms / 1e6).toFixed(1)} GB/s`);
}
const big = new ort.Tensor('float32', new Float32Array(N * C * D).fill(0.01), [N, D, C]);
const bigT = new ort.Tensor('float32', new Float32Array(N * C * D).fill(0.01), [N, C, D]);
const q = new ort.Tensor('float32', new Float32Array(N * D).fill(0.1), [N, 1, D]);
const qT = new ort.Tensor('float32', new Float32Array(N * D).fill(0.1), [N, D, 1]);
const p = new ort.Tensor('float32', new Float32Array(N * C).fill(0.1), [N, 1, C]);
const pT = new ort.Tensor('float32', new Float32Array(N * C).fill(0.1), [N, C, 1]);
await time('q[1,D] x K[D,C] (current scores)', (b) => { b.output(b.matmul(b.input('q', 'float32', [N, 1, D]), b.input('k', 'float32', [N, D, C])), 'o', 'float32', [N, 1, C]); }, { q, k: big });
await time('K[C,D] x q[D,1] (scores, N=1)', (b) => { b.output(b.matmul(b.input('k', 'float32', [N, C, D]), b.input('q', 'float32', [N, D, 1])), 'o', 'float32', [N, C, 1]); }, { q: qT, k: bigT });
await time('p[1,C] x V[C,D] (current values)', (b) => { b.output(b.matmul(b.input('p', 'float32', [N, 1, C]), b.input('v', 'float32', [N, C, D])), 'o', 'float32', [N, 1, D]); }, { p, v: bigT });
await time('Vt[D,C] x p[C,1] (values, N=1)', (b) => { b.output(b.matmul(b.input('v', 'float32', [N, D, C]), b.input('p', 'float32', [N, C, 1])), 'o', 'float32', [N, D, 1]); }, { p: pT, v: big });
await time('Mul+ReduceSum K[C,D]*q[1,D]', (b) => { b.output(b.reduceSum(b.mul(b.input('k', 'float32', [N, C, D]), b.input('q', 'float32', [N, 1, D])), [2], false), 'o', 'float32', [N, C]); }, { q, k: bigT });
await time('Einsum nd,ndc->nc', (b) => { b.output(b.op1('Einsum', [b.input('q', 'float32', [N, D]), b.input('k', 'float32', [N, D, C])], { equation: { kind: 'string', value: 'nd,ndc->nc' } }), 'o', 'float32', [N, C]); }, { q: new ort.Tensor('float32', new Float32Array(N * D).fill(0.1), [N, D]), k: big });
const pool = new Float32Array(16 * N * C * D / 4);
const view = new ort.Tensor('float32', pool.subarray(0, N * C * D), [4, 8, D, C]);
await time('4D q x K from pool view', (b) => { b.output(b.matmul(b.input('q', 'float32', [4, 8, 1, D]), b.input('k', 'float32', [4, 8, D, C])), 'o', 'float32', [4, 8, 1, C]); }, { q: new ort.Tensor('float32', new Float32Array(N * D).fill(0.1), [4, 8, 1, D]), k: view });
const big4 = new ort.Tensor('float32', new Float32Array(N * C * D).fill(0.01), [4, 8, D, C]);
await time('4D q x K fresh filled', (b) => { b.output(b.matmul(b.input('q', 'float32', [4, 8, 1, D]), b.input('k', 'float32', [4, 8, D, C])), 'o', 'float32', [4, 8, 1, C]); }, { q: new ort.Tensor('float32', new Float32Array(N * D).fill(0.1), [4, 8, 1, D]), k: big4 });
