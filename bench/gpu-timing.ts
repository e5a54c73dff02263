// Step timing of the device-cache LM runner, and the device's copy bandwidth.
import type { AudioDraws } from '../src/model/lm/depformer-frame.js';
import { embeddingIndices, embeddingLayout } from '../src/model/lm/embeddings.js';
import type { GpuLmRunner } from '../src/model/lm/gpu-lm-runner.js';
import { buildFillGraph, buildNegGraph } from '../src/model/lm/gpu/cache-graphs.js';
import { GraphBuilder } from '../src/model/onnx/graph-builder.js';
import { encodeModel } from '../src/model/onnx/serialize.js';
import { createSession, f32, i64, type SessionOptions } from '../src/model/onnx/session.js';
import { median, percentile, round } from './stats.js';

export interface StepTiming {
  batch: number;
  /** Ring length used (the model's context unless memory is short). */
  capacity: number;
  steps: number;
  /** Mean over all timed steps. */
  meanMs: number;
  p50Ms: number;
  p95Ms: number;
  /** Frames late at 80 ms show here: a fold stalls the step that runs it. */
  p99Ms: number;
  maxMs: number;
  temporalP50Ms: number;
  depformerP50Ms: number;
  /** Which part a slow frame's time went to. */
  temporalMaxMs: number;
  depformerMaxMs: number;
}

function argmaxRows(logits: Float32Array, rows: number, n: number, out: Int32Array): void {
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let i = 1; i < n; i++) if (logits[r * n + i]! > logits[r * n + best]!) best = i;
    out[r] = best;
  }
}

/**
 * Times `steps` full frames as served after `warmup`: the temporal step, the
 * text token (argmax on the host), then the depformer frame graph drawing
 * audio tokens with Moshi's defaults (temperature 0.8, top-k 250).
 */
export async function timeSteps(runner: GpuLmRunner, batch: number, warmup: number, steps: number): Promise<StepTiming> {
  const d = runner.dims;
  const layout = embeddingLayout(d);
  const idx = new BigInt64Array(batch * d.streams);
  const tok = new Int32Array(d.streams);
  const text = new Int32Array(batch);
  const draws: AudioDraws = {
    greedy: new Uint8Array(batch),
    temperature: new Float32Array(batch).fill(0.8),
    topK: new Int32Array(batch).fill(250),
    uniforms: new Float32Array(batch * d.depQ),
  };
  const total: number[] = [];
  const temporal: number[] = [];
  const depformer: number[] = [];
  for (let s = 0; s < warmup + steps; s++) {
    for (let r = 0; r < batch; r++) {
      for (let q = 0; q < d.streams; q++) tok[q] = (r * 131 + s * 17 + q * 7) % (q === 0 ? d.textCard : d.card);
      embeddingIndices(layout, tok, idx, r * d.streams);
    }
    const t0 = performance.now();
    const { hidden, textLogits } = await runner.temporalStep(batch, 1, idx);
    const t1 = performance.now();
    argmaxRows(textLogits, batch, d.textCard, text);
    for (let i = 0; i < draws.uniforms.length; i++) draws.uniforms[i] = Math.random();
    await runner.depformerFrame(batch, hidden, text, draws);
    const t2 = performance.now();
    if (s >= warmup) {
      total.push(t2 - t0);
      temporal.push(t1 - t0);
      depformer.push(t2 - t1);
    }
  }
  return {
    batch,
    capacity: runner.capacity,
    steps,
    meanMs: round(total.reduce((a, b) => a + b, 0) / total.length),
    p50Ms: round(median(total)),
    p95Ms: round(percentile(total, 95)),
    p99Ms: round(percentile(total, 99)),
    maxMs: round(Math.max(...total)),
    temporalP50Ms: round(median(temporal)),
    depformerP50Ms: round(median(depformer)),
    temporalMaxMs: round(Math.max(...temporal)),
    depformerMaxMs: round(Math.max(...depformer)),
  };
}

/** KV bytes one step reads for `batch` rows: every layer's ring, keys and values. */
export function kvBytesPerStep(runner: GpuLmRunner, batch: number): number {
  return runner.bytesPerSlot * batch;
}

export interface CopyBandwidth {
  bytes: number;
  runs: number;
  /** Bytes read plus bytes written per second. */
  bytesPerSecond: number;
}

/** A Neg over a large device buffer (each byte read once, written once), timed over many runs. */
export async function measureCopyBandwidth(opts: SessionOptions, elements = 256 * 1024 * 1024, runs = 30): Promise<CopyBandwidth> {
  const out = { preferredOutputLocation: { out: 'gpu-buffer' as const } };
  runs = Math.max(runs, 100);
  const fill = await createSession(encodeModel(buildFillGraph('float32')), opts, out);
  const neg = await createSession(encodeModel(buildNegGraph('float32')), opts, out);
  const sync = await createSession(encodeModel(buildNegGraph('float32')), opts);
  const x = (await fill.run({ shape: i64(BigInt64Array.of(1n, 1n, 1n, BigInt(elements)), [4]) }))['out']!;
  const drain = async () => void (await sync.run({ x: f32(new Float32Array(1), [1, 1, 1, 1]) }));
  for (let i = 0; i < 3; i++) (await neg.run({ x }))['out']!.dispose();
  await drain();
  const t0 = performance.now();
  for (let i = 0; i < runs; i++) (await neg.run({ x }))['out']!.dispose();
  await drain();
  const seconds = (performance.now() - t0) / 1000;
  x.dispose();
  for (const s of [fill, neg, sync]) await s.release();
  const bytes = elements * 4;
  return { bytes, runs, bytesPerSecond: (2 * bytes * runs) / seconds };
}

/**
 * Host cost of one kernel dispatch: a chain of `nodes` tiny Adds on the
 * device, timed per run (each run ends with a small download, so it syncs).
 */
export async function measureDispatchOverhead(opts: SessionOptions, nodes = 500, runs = 20): Promise<{ nodes: number; usPerNode: number }> {
  const b = new GraphBuilder('dispatch_probe');
  let x = b.input('x', 'float32', [1, 64]);
  const one = b.constF32(1);
  for (let i = 0; i < nodes; i++) x = b.add(x, one);
  b.output(x, 'out', 'float32', [1, 64]);
  const s = await createSession(encodeModel(b.build()), opts);
  const feeds = { x: f32(new Float32Array(64), [1, 64]) };
  for (let i = 0; i < 3; i++) await s.run(feeds);
  const t0 = performance.now();
  for (let i = 0; i < runs; i++) await s.run(feeds);
  const us = ((performance.now() - t0) * 1000) / runs / nodes;
  await s.release();
  return { nodes, usPerNode: round(us, 2) };
}

