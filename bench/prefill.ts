import { loadavg } from 'node:os';
import type { WeightSource } from '../src/model/checkpoint/weights.js';
import { embeddingIndices, embeddingLayout } from '../src/model/lm/embeddings.js';
import { LmRunner } from '../src/model/lm/lm-runner.js';
import { prefill, type MobaOptions } from '../src/model/lm/prefill.js';
import { buildPrefillGraph } from '../src/model/lm/prefill-graph.js';
import { buildTemporalGraph } from '../src/model/lm/temporal-graph.js';
import { encodeModel } from '../src/model/onnx/serialize.js';
import { presetSource } from '../src/model/presets/presets.js';

/**
 * Prefill benchmarks (issue 8) on a preset model built in memory (default
 * `bench`, whose context is 3000 frames), on the CPU. Histories are seeded
 * random tokens: speed does not depend on them; MoBA's divergence does, and
 * the preset's weights are random too, so it measures the mechanism, not
 * what a trained Moshi would do.
 */
export interface PrefillBenchOptions {
  preset?: string;
  threads?: number;
}

/** A runner with the streaming and both prefill graphs of a preset. */
export async function createPrefillBenchRunner(opts: PrefillBenchOptions = {}): Promise<LmRunner> {
  const src = presetSource(opts.preset ?? 'bench');
  const weights = memoized(src.lmWeights); // three graphs share them; random weights are slow to draw
  return LmRunner.create(src.lm, {
    temporal: encodeModel(buildTemporalGraph(src.lm, weights)),
    depformer: [],
    prefill: encodeModel(buildPrefillGraph(src.lm, weights, { moba: false })),
    prefillMoba: encodeModel(buildPrefillGraph(src.lm, weights, { moba: true })),
  }, 1, { provider: 'cpu', intraOpThreads: opts.threads ?? 1 });
}

function memoized(src: WeightSource): WeightSource {
  const cache = new Map<string, Float32Array>();
  return {
    label: src.label,
    has: (name) => src.has(name),
    get: (name, shape) => {
      const key = `${name}:${shape.join('x')}`;
      let w = cache.get(key);
      if (!w) cache.set(key, (w = src.get(name, shape)));
      return w;
    },
  };
}

/** Seeded history of `frames` frames for the runner's model (valid tokens everywhere). */
export function benchHistory(runner: LmRunner, frames: number, seed = 1): Int32Array {
  const d = runner.dims;
  const h = new Int32Array(frames * d.streams);
  let s = seed >>> 0;
  for (let i = 0; i < h.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    h[i] = s % (i % d.streams === 0 ? d.textCard : d.card);
  }
  return h;
}

export interface PrefillSpeed {
  frames: number;
  chunk: number;
  threads: number;
  /** Wall time of the prefill, best of `repeats`. */
  prefillMs: number;
  /** Wall time to step all `frames` frames one by one, best of `repeats`; scaled from `steppedFrames` when fewer were run. */
  steppedMs: number;
  steppedFrames: number;
  steppedScaled: boolean;
  speedup: number;
  /** The same runs in process CPU time, less sensitive to other load on the machine (with threads = 1). */
  prefillCpuMs: number;
  steppedCpuMs: number;
  cpuSpeedup: number;
  /** 1-minute load average when the runs started: a loaded machine skews wall times. */
  loadAverage: number;
  repeats: number;
}

/**
 * Prefill of a `frames`-frame history against stepping it frame by frame
 * through the streaming graph (the temporal transformer only, as prefill).
 * A streaming step always attends over the whole ring (masked), so its cost
 * does not depend on the position, and stepping `steppedFrames` frames then
 * scaling is representative.
 *
 * The ratio is the machine's balance more than the code's: a step is
 * memory-bound (it reads every weight and the whole cache, ~215 MB on the
 * bench preset, for one frame), while prefill is compute-bound (~29 M
 * multiply-adds per frame, which onnxruntime's kernels run near the core's
 * peak). More threads help prefill more than stepping.
 */
export async function benchPrefillSpeed(
  opts: PrefillBenchOptions & { frames?: number; chunk?: number; steppedFrames?: number; repeats?: number; runner?: LmRunner } = {},
): Promise<PrefillSpeed> {
  const runner = opts.runner ?? (await createPrefillBenchRunner(opts));
  const frames = opts.frames ?? 3000;
  const chunk = opts.chunk ?? 256;
  const repeats = opts.repeats ?? 2;
  const steppedFrames = Math.min(frames, opts.steppedFrames ?? 300);
  const history = benchHistory(runner, frames);
  const d = runner.dims;
  const layout = embeddingLayout(d);
  const loadAverage = loadavg()[0]!;

  await prefill(runner, 0, history, { chunk }); // warm-up: first touch of the ring and scratch pages
  const pre = await best(repeats, () => prefill(runner, 0, history, { chunk }));
  const idx = new BigInt64Array(d.streams);
  const step = await best(repeats, async () => {
    runner.resetSlot(0);
    for (let t = 0; t < steppedFrames; t++) {
      embeddingIndices(layout, history.subarray(t * d.streams, (t + 1) * d.streams), idx, 0);
      await runner.temporalStep(1, 1, idx);
    }
  });
  if (!opts.runner) await runner.release();
  const scale = frames / steppedFrames;
  return {
    frames, chunk, threads: opts.threads ?? 1,
    prefillMs: pre.wallMs, steppedMs: step.wallMs * scale, steppedFrames, steppedScaled: steppedFrames < frames,
    speedup: (step.wallMs * scale) / pre.wallMs,
    prefillCpuMs: pre.cpuMs, steppedCpuMs: step.cpuMs * scale, cpuSpeedup: (step.cpuMs * scale) / pre.cpuMs,
    loadAverage, repeats,
  };
}

/** Best (lowest) wall and CPU time of `n` runs: the least disturbed by other work. */
async function best(n: number, fn: () => Promise<unknown>): Promise<{ wallMs: number; cpuMs: number }> {
  let wallMs = Infinity;
  let cpuMs = Infinity;
  for (let i = 0; i < n; i++) {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await fn();
    wallMs = Math.min(wallMs, performance.now() - t0);
    const cpu = process.cpuUsage(cpu0);
    cpuMs = Math.min(cpuMs, (cpu.user + cpu.system) / 1000);
  }
  return { wallMs, cpuMs };
}

export interface MobaDivergence {
  blockSize: number;
  topK: number;
  /** Over the text logits of the last history frame and `decodeFrames` frames decoded after it. */
  maxAbsLogitDiff: number;
  meanAbsLogitDiff: number;
  /** Fraction of those frames whose most likely text token is the same as with full attention. */
  argmaxMatch: number;
  prefillMs: number;
}

/**
 * MoBA prefill against full-attention prefill on a long history: the text
 * logits of the last frame and of a few streaming steps after it (decoding
 * uses full attention over the cache MoBA's prefill left). The first row
 * ({ blockSize: 0, topK: 0 }) is full attention itself, for its time. Times
 * are single runs. MoBA here masks (-inf) rather than skips the unchosen
 * blocks, so it costs more than full attention, never less: it measures what
 * the approximation does to the outputs.
 */
export async function benchMobaDivergence(
  opts: PrefillBenchOptions & { frames?: number; chunk?: number; decodeFrames?: number; settings?: MobaOptions[]; runner?: LmRunner } = {},
): Promise<MobaDivergence[]> {
  const runner = opts.runner ?? (await createPrefillBenchRunner(opts));
  const frames = opts.frames ?? 3000;
  const chunk = opts.chunk ?? 256;
  const decodeFrames = opts.decodeFrames ?? 4;
  const settings = opts.settings ?? [
    { blockSize: 512, topK: 3 }, { blockSize: 512, topK: 2 }, { blockSize: 256, topK: 4 }, { blockSize: 128, topK: 8 },
  ];
  const history = benchHistory(runner, frames + decodeFrames, 2);
  const d = runner.dims;
  const run = async (moba: MobaOptions | null) => {
    const t0 = performance.now();
    const r = await prefill(runner, 0, history.subarray(0, frames * d.streams), { chunk, moba });
    const prefillMs = performance.now() - t0;
    const logits = [r.textLogits.slice()];
    const idx = new BigInt64Array(d.streams);
    for (let t = frames; t < frames + decodeFrames; t++) {
      embeddingIndices(embeddingLayout(d), history.subarray(t * d.streams, (t + 1) * d.streams), idx, 0);
      logits.push((await runner.temporalStep(1, 1, idx)).textLogits.slice());
    }
    return { logits, prefillMs };
  };
  for (const moba of [null, settings[0] ?? null]) await prefill(runner, 0, history.subarray(0, chunk * d.streams), { chunk, moba }); // warm-up
  const full = await run(null);
  const rows: MobaDivergence[] = [
    { blockSize: 0, topK: 0, maxAbsLogitDiff: 0, meanAbsLogitDiff: 0, argmaxMatch: 1, prefillMs: full.prefillMs },
  ];
  for (const moba of settings) {
    const r = await run(moba);
    let max = 0;
    let sum = 0;
    let n = 0;
    let same = 0;
    r.logits.forEach((l, i) => {
      const ref = full.logits[i]!;
      for (let j = 0; j < l.length; j++) {
        const diff = Math.abs(l[j]! - ref[j]!);
        max = Math.max(max, diff);
        sum += diff;
        n++;
      }
      if (argmax(l) === argmax(ref)) same++;
    });
    rows.push({ ...moba, maxAbsLogitDiff: max, meanAbsLogitDiff: sum / n, argmaxMatch: same / r.logits.length, prefillMs: r.prefillMs });
  }
  if (!opts.runner) await runner.release();
  return rows;
}

function argmax(x: Float32Array): number {
  let best = 0;
  for (let i = 1; i < x.length; i++) if (x[i]! > x[best]!) best = i;
  return best;
}
