import ort from 'onnxruntime-node';
import { GraphBuilder } from '../src/model/onnx/graph-builder.js';
import { encodeModel } from '../src/model/onnx/serialize.js';
import { createSession } from '../src/model/onnx/session.js';
const N = 32, C = 3000, D = 64, L = 12;
const b = new GraphBuilder('x');
b.output(b.matmul(b.input('q', 'float32', [4, 8, 1, D]), b.input('k', 'float32', [4, 8, D, C])), 'o', 'float32', [4, 8, 1, C]);
const s = await createSession(encodeModel(b.build()), { provider: 'cpu', intraOpThreads: Number(process.argv[2] ?? 1) });
const ks = Array.from({ length: L }, () => new ort.Tensor('float32', new Float32Array(N * C * D).fill(0.01), [4, 8, D, C]));
const q = new ort.Tensor('float32', new Float32Array(N * D).fill(0.1), [4, 8, 1, D]);
for (let i = 0; i < L; i++) await s.run({ q, k: ks[i]! });
const t0 = performance.now();
for (let r = 0; r < 5; r++) for (let i = 0; i < L; i++) await s.run({ q, k: ks[i]! });
const ms = (performance.now() - t0) / (5 * L);
console.log(`rotating ${L} caches: ${ms.toFixed(2)} ms per matmul, ${(N * C * D * 4 / ms / 1e6).toFixed(1)} GB/s`);
// plain JS memory read bandwidth for reference
let acc = 0; const t1 = performance.now();
for (const k of ks) { const a = k.data as Float32Array; for (let i = 0; i < a.length; i += 16) acc += a[i]!; }
const ms2 = performance.now() - t1;
console.log(`JS strided touch of all caches: ${(L * N * C * D * 4 / ms2 / 1e6).toFixed(1)} GB/s`, acc > 0);
