import ort from 'onnxruntime-node';
import { GraphBuilder } from '../src/model/onnx/graph-builder.js';
import { encodeModel } from '../src/model/onnx/serialize.js';
import { createSession, type SessionOptions } from '../src/model/onnx/session.js';

/** Median and fastest of `runs` timed runs after one untimed; releases the session. */
async function timeRuns(s: ort.InferenceSession, feeds: Record<string, ort.Tensor>, runs: number): Promise<{ ms: number; bestMs: number }> {
  await s.run(feeds);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await s.run(feeds);
    times.push(performance.now() - t0);
  }
  await s.release();
  times.sort((a, b) => a - b);
  return { ms: times[Math.floor(times.length / 2)]!, bestMs: times[0]! };
}

/**
 * The machine's arithmetic ceiling through onnxruntime on the given provider:
 * a chain of large square MatMuls (compute-bound), in GFLOP/s.
 */
export async function measureCeiling(opts: SessionOptions, n = 1024, depth = 4, runs = 10): Promise<{ gflops: number; n: number; ms: number }> {
  const b = new GraphBuilder('ceiling');
  let x = b.input('x', 'float32', [n, n]);
  for (let i = 0; i < depth; i++) {
    const w = new Float32Array(n * n);
    for (let j = 0; j < w.length; j++) w[j] = ((j * 2654435761) % 1000) / 1e6;
    x = b.matmul(x, b.weight(`w${i}`, w, [n, n]));
  }
  b.output(x, 'y', 'float32', [n, n]);
  const s = await createSession(encodeModel(b.build()), opts);
  const feeds = { x: new ort.Tensor('float32', new Float32Array(n * n).fill(0.001), [n, n]) };
  const { ms } = await timeRuns(s, feeds, runs);
  return { gflops: (2 * n * n * n * depth) / (ms / 1000) / 1e9, n, ms };
}

/**
 * Memory read bandwidth as attention over a KV cache sees it: probabilities
 * [R, 1, C] times values [R, C, 64] (R rows of a C = 3000 window, the shape
 * of the temporal step's second attention product), the values fed as an
 * input (a JavaScript-owned buffer, like the KV pool) so that every run
 * streams them from memory. GB/s of the median and of the fastest run.
 */
export async function measureReadBandwidth(opts: SessionOptions, bytes = 1.2e9, runs = 9): Promise<{ gbps: number; bestGbps: number; bytes: number; ms: number }> {
  const C = 3000;
  const D = 64;
  const R = Math.max(1, Math.round(bytes / 4 / (C * D)));
  const b = new GraphBuilder('bandwidth');
  const y = b.matmul(b.input('p', 'float32', [R, 1, C]), b.input('v', 'float32', [R, C, D]));
  b.output(y, 'y', 'float32', [R, 1, D]);
  const s = await createSession(encodeModel(b.build()), opts);
  const feeds = {
    p: new ort.Tensor('float32', new Float32Array(R * C).fill(1 / C), [R, 1, C]),
    v: new ort.Tensor('float32', new Float32Array(R * C * D).fill(0.001), [R, C, D]),
  };
  const { ms, bestMs } = await timeRuns(s, feeds, runs);
  const read = 4 * R * C * D;
  return { gbps: read / (ms / 1000) / 1e9, bestGbps: read / (bestMs / 1000) / 1e9, bytes: read, ms };
}

if (process.argv[1]?.endsWith('ceiling.js')) {
  for (const t of [1, 2]) {
    const opts = { provider: 'cpu' as const, intraOpThreads: t };
    console.log(`threads ${t}:`, await measureCeiling(opts), await measureReadBandwidth(opts));
  }
}
