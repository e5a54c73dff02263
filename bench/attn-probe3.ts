import ort from 'onnxruntime-node';
import { GraphBuilder } from '../src/model/onnx/graph-builder.js';
import { encodeModel } from '../src/model/onnx/serialize.js';
import { createSession } from '../src/model/onnx/session.js';
const N = 32, C = 3000, D = 64, L = 12;
async function rot(name: string, build: (b: GraphBuilder) => void, small: ort.Tensor, smallName: string, bigShape: number[]) {
  const b = new GraphBuilder('x');
  build(b);
  const s = await createSession(encodeModel(b.build()), { provider: 'cpu', intraOpThreads: 1 });
  const ks = Array.from({ length: L }, () => new ort.Tensor('float32', new Float32Array(N * C * D).fill(0.01), bigShape));
  for (let i = 0; i < L; i++) await s.run({ [smallName]: small, k: ks[i]! });
  const t0 = performance.now();
  for (let r = 0; r < 5; r++) for (let i = 0; i < L; i++) await s.run({ [smallName]: small, k: ks[i]! });
  const ms = (performance.now() - t0) / (5 * L);
  console.log(`${name.padEnd(36)} ${ms.toFixed(2)} ms ${(N * C * D * 4 / ms / 1e6).toFixed(1)} GB/s`);
}
const q = new ort.Tensor('float32', new Float32Array(N * D).fill(0.1), [4, 8, 1, D]);
const p = new ort.Tensor('float32', new Float32Array(N * C).fill(0.1), [4, 8, 1, C]);
await rot('q x K', (b) => b.output(b.matmul(b.input('q', 'float32', [4, 8, 1, D]), b.input('k', 'float32', [4, 8, D, C])), 'o', 'float32', [4, 8, 1, C]), q, 'q', [4, 8, D, C]);
await rot('(q*s) x K  (FusedMatMul)', (b) => b.output(b.matmul(b.mul(b.input('q', 'float32', [4, 8, 1, D]), b.constF32(0.125)), b.input('k', 'float32', [4, 8, D, C])), 'o', 'float32', [4, 8, 1, C]), q, 'q', [4, 8, D, C]);
await rot('p x V', (b) => b.output(b.matmul(b.input('q', 'float32', [4, 8, 1, C]), b.input('k', 'float32', [4, 8, C, D])), 'o', 'float32', [4, 8, 1, D]), p, 'q', [4, 8, C, D]);
const pt = new ort.Tensor('float32', new Float32Array(N * C).fill(0.1), [4, 8, C, 1]);
await rot('Vt x p', (b) => b.output(b.matmul(b.input('k', 'float32', [4, 8, D, C]), b.input('q', 'float32', [4, 8, C, 1])), 'o', 'float32', [4, 8, D, 1]), pt, 'q', [4, 8, D, C]);
