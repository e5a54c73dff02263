// Checks, on the device, what onnxruntime-node 1.30 lets a runner do with
// fixed device buffers: (A) a session without preferredOutputLocation writing
// into a preallocated device tensor passed as a fetch; (B) WebGPU graph capture
// replaying on those buffers while their contents change between runs;
// (C) a fetch that is the same buffer as a feed, read by other kernels first;
// (D) the host cost of a chain of small kernels with and without capture.
// Usage: node dist/bench/gpu-capture-probe.js [--provider webgpu] [--out F]
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { A, GraphBuilder } from '../src/model/onnx/graph-builder.js';
import { buildFillGraph } from '../src/model/lm/gpu/cache-graphs.js';
import { encodeModel } from '../src/model/onnx/serialize.js';
import { median, round } from './stats.js';

const { values } = parseArgs({ options: { provider: { type: 'string', default: 'webgpu' }, out: { type: 'string' } } });
const provider = values.provider!;
const R = 4;
const D = 64;

function addZero(name: string, dims: number[]): Uint8Array {
  const b = new GraphBuilder(name);
  const x = b.input('x', 'float32', dims);
  b.output(b.op1('Add', [x, b.constF32(0)]), 'y', 'float32', dims);
  return encodeModel(b.build());
}

function options(extra: { capture?: boolean; device?: boolean } = {}): ort.InferenceSession.SessionOptions {
  const ep = provider === 'webgpu' ? { name: 'webgpu', storageBufferCacheMode: 'simple', validationMode: 'disabled' } : provider;
  return {
    executionProviders: [ep as ort.InferenceSession.ExecutionProviderConfig],
    graphOptimizationLevel: 'all',
    ...(extra.device && provider === 'webgpu' ? { preferredOutputLocation: 'gpu-buffer' as const } : {}),
    ...(extra.capture ? { extra: { ep: { webgpuexecutionprovider: { enableGraphCapture: '1' } } } } : {}),
  };
}

const report: Record<string, unknown> = { provider, date: new Date().toISOString() };
const check = (name: string, ok: boolean, detail: unknown = {}): void => {
  report[name] = { ok, ...(typeof detail === 'object' ? detail : { detail }) };
  console.log(`${ok ? 'PASS' : 'FAIL'} ${name} ${JSON.stringify(detail)}`);
};

async function main(): Promise<void> {
  const alloc = await ort.InferenceSession.create(addZero('alloc', [R, D]), options({ device: true }));
  const upload = await ort.InferenceSession.create(addZero('upload', [R, D]), options());
  const download = await ort.InferenceSession.create(addZero('download', [R, D]), options());
  const fresh = async (): Promise<ort.Tensor> =>
    (await alloc.run({ x: new ort.Tensor('float32', new Float32Array(R * D), [R, D]) }))['y']!;
  const put = async (dst: ort.Tensor, data: Float32Array): Promise<void> => {
    await upload.run({ x: new ort.Tensor('float32', data, [R, D]) }, { y: dst });
  };
  const get = async (src: ort.Tensor): Promise<Float32Array> => (await download.run({ x: src }))['y']!.data as Float32Array;
  const X = await fresh();
  const Y = await fresh();
  report['bufferLocation'] = X.location;

  // A: preallocated device output.
  try {
    const h = Float32Array.from({ length: R * D }, (_, i) => i * 0.5);
    await put(X, h);
    const back = await get(X);
    check('A_preallocatedOutput', back.every((v, i) => v === h[i]), { first: Array.from(back.slice(0, 4)) });
  } catch (e) {
    check('A_preallocatedOutput', false, { error: (e as Error).message });
  }

  // B: capture and replay y = x @ W + x with new x contents each run.
  const W = Float32Array.from({ length: D * D }, (_, i) => Math.sin(i) * 0.1);
  const mm = new GraphBuilder('mm');
  const x = mm.input('x', 'float32', [R, D]);
  mm.output(mm.op1('Add', [mm.op1('MatMul', [x, mm.weight('W', W, [D, D])]), x]), 'y', 'float32', [R, D]);
  const ref = (h: Float32Array): Float32Array => {
    const out = new Float32Array(R * D);
    for (let r = 0; r < R; r++) for (let j = 0; j < D; j++) {
      let s = h[r * D + j]!;
      for (let k = 0; k < D; k++) s += h[r * D + k]! * W[k * D + j]!;
      out[r * D + j] = s;
    }
    return out;
  };
  try {
    const cap = await ort.InferenceSession.create(encodeModel(mm.build()), options({ capture: true }));
    const errs: number[] = [];
    for (let i = 0; i < 6; i++) {
      const h = Float32Array.from({ length: R * D }, (_, k) => Math.cos(k * (i + 1)));
      await put(X, h);
      await cap.run({ x: X }, { y: Y });
      const got = await get(Y);
      const want = ref(h);
      errs.push(Math.max(...Array.from(got, (v, k) => Math.abs(v - want[k]!))));
    }
    check('B_captureReplay', errs.every((e) => e < 1e-3), { maxErrPerRun: errs.map((e) => round(e, 6)) });
  } catch (e) {
    check('B_captureReplay', false, { error: (e as Error).message });
  }

  // C: out = Concat(Slice(big, 0, 1), win, Slice(big, 2, R)) written into big itself.
  try {
    const mg = new GraphBuilder('merge');
    const big = mg.input('big', 'float32', [R, D]);
    const win = mg.input('win', 'float32', [1, D]);
    const out = mg.concat([mg.slice(big, [0], [1], [0]), win, mg.slice(big, [2], [R], [0])], 0);
    mg.output(out, 'out', 'float32', [R, D]);
    const merge = await ort.InferenceSession.create(encodeModel(mg.build()), options());
    const h = Float32Array.from({ length: R * D }, (_, i) => i);
    await put(X, h);
    const w = Float32Array.from({ length: D }, (_, i) => -1 - i);
    await merge.run({ big: X, win: new ort.Tensor('float32', w, [1, D]) }, { out: X });
    const got = await get(X);
    const want = Float32Array.from(h);
    want.set(w, D);
    check('C_aliasedMerge', got.every((v, i) => v === want[i]), { row1: Array.from(got.slice(D, D + 3)), row2: Array.from(got.slice(2 * D, 2 * D + 3)) });
  } catch (e) {
    check('C_aliasedMerge', false, { error: (e as Error).message });
  }

  // D: a chain of 400 small kernels, timed with and without capture.
  const chain = new GraphBuilder('chain');
  let v = chain.input('x', 'float32', [R, D]);
  const x0 = v;
  for (let i = 0; i < 200; i++) v = chain.op1('Mul', [chain.op1('Add', [v, x0]), chain.constF32(0.5)]);
  chain.output(v, 'y', 'float32', [R, D]);
  const chainBytes = encodeModel(chain.build());
  for (const capture of [false, true]) {
    try {
      const s = await ort.InferenceSession.create(chainBytes, options({ capture }));
      const times: number[] = [];
      for (let i = 0; i < 30; i++) {
        const t0 = performance.now();
        await s.run({ x: X }, { y: Y });
        await get(Y); // waits for the device
        times.push(performance.now() - t0);
      }
      report[capture ? 'D_chainCapturedMs' : 'D_chainMs'] = round(median(times.slice(5)), 3);
      console.log(`D chain of 400 kernels, capture=${capture}: ${round(median(times.slice(5)), 3)} ms median`);
    } catch (e) {
      report[capture ? 'D_chainCapturedMs' : 'D_chainMs'] = (e as Error).message;
      console.log(`D capture=${capture} failed: ${(e as Error).message}`);
    }
  }
  await scatterInPlace(get, X);
  if (values.out) writeFileSync(values.out, JSON.stringify(report, null, 1));
}

/**
 * E: a KV ring updated in place: ScatterElements along the ring axis with the
 * ring fed as `data` and fetched as the output (the same device buffer).
 * Checked for values on a small ring, timed on a Moshi-7B-sized one
 * (B=32, H=32, Dh=128, C=3000 in float16: 786 MB) against the same graph
 * writing a fresh output. F: disposing the tensor a preallocated fetch
 * returns leaves the buffer usable.
 */
async function scatterInPlace(
  get: (src: ort.Tensor) => Promise<Float32Array>,
  X: ort.Tensor,
): Promise<void> {
  const graph = (dtype: 'float32' | 'float16', dims: number[]): Uint8Array => {
    const g = new GraphBuilder('ring_scatter');
    const ring = g.input('ring', dtype, dims);
    const slot = g.input('slot', 'int64', [dims[0]!, 1, 1, 1]);
    const upd = g.input('upd', dtype, [dims[0]!, dims[1]!, dims[2]!, 1]);
    const idx = g.op1('Expand', [slot, g.constI64([dims[0]!, dims[1]!, dims[2]!, 1])]);
    g.output(g.op1('ScatterElements', [ring, idx, upd], { axis: A.i(3) }), 'out', dtype, dims);
    return encodeModel(g.build());
  };
  // Small: the ring is X viewed as [R, 2, 2, 16] (R*64 floats).
  try {
    const dims = [R, 2, 2, D / 4];
    const s = await ort.InferenceSession.create(graph('float32', dims), options());
    const fill = await ort.InferenceSession.create(encodeModel(buildFillGraph('float32')), options({ device: true }));
    const ringView = (await fill.run({ shape: new ort.Tensor('int64', BigInt64Array.from(dims.map(BigInt)), [4]) }))['out']!;
    const down4 = await ort.InferenceSession.create(addZero('down4', dims), options());
    const get4 = async (t: ort.Tensor) => (await down4.run({ x: t }))['y']!.data as Float32Array;
    const h = new Float32Array(R * D);
    const slots = BigInt64Array.from({ length: R }, (_, r) => BigInt(r * 3));
    const upd = Float32Array.from({ length: R * 4 }, (_, i) => -1 - i);
    const res = await s.run({ ring: ringView, slot: new ort.Tensor('int64', slots, [R, 1, 1, 1]), upd: new ort.Tensor('float32', upd, [R, 2, 2, 1]) },
      { out: ringView });
    res['out']!.dispose();
    const got = await get4(ringView);
    const want = Float32Array.from(h);
    for (let r = 0; r < R; r++) for (let j = 0; j < 4; j++) want[r * D + j * (D / 4) + r * 3] = upd[r * 4 + j]!;
    check('E_scatterInPlace', got.every((v, i) => v === want[i]), { mismatches: got.reduce((n, v, i) => n + (v === want[i] ? 0 : 1), 0) });
    const again = await get4(ringView);
    check('F_disposeReturnedFetch', again.every((v, i) => v === want[i]));
  } catch (e) {
    check('E_scatterInPlace', false, { error: (e as Error).message });
  }
  if (provider !== 'webgpu') return;
  // Large: time in place against a fresh output.
  try {
    const dims = [32, 32, 128, 3000];
    const n = dims.reduce((a, b) => a * b, 1);
    const z = await ort.InferenceSession.create(encodeModel(buildFillGraph('float16')), options({ device: true }));
    const ring = (await z.run({ shape: new ort.Tensor('int64', BigInt64Array.from(dims.map(BigInt)), [4]) }))['out']!;
    const s = await ort.InferenceSession.create(graph('float16', dims), options());
    const feeds = (i: number) => ({
      ring,
      slot: new ort.Tensor('int64', BigInt64Array.from({ length: 32 }, (_, r) => BigInt((i + r) % 3000)), [32, 1, 1, 1]),
      upd: new ort.Tensor('float16', new Uint16Array(32 * 32 * 128).fill(0x3c00), [32, 32, 128, 1]),
    });
    const time = async (inPlace: boolean): Promise<number> => {
      const t: number[] = [];
      for (let i = 0; i < 25; i++) {
        const t0 = performance.now();
        const out = inPlace ? await s.run(feeds(i), { out: ring }) : await s.run(feeds(i));
        await get(X); // queued behind the scatter: waits for it
        t.push(performance.now() - t0);
        out['out']!.dispose();
      }
      return round(median(t.slice(5)), 3);
    };
    report['E_ringBytes'] = n * 2;
    report['E_inPlaceMs'] = await time(true);
    report['E_freshOutputMs'] = await time(false);
    console.log(`E ring ${n * 2} bytes: in place ${report['E_inPlaceMs']} ms, fresh output ${report['E_freshOutputMs']} ms`);
  } catch (e) {
    report['E_timing'] = (e as Error).message;
    console.log(`E timing failed: ${(e as Error).message}`);
  }
}

await main();
