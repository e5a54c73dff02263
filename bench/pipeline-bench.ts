import { ModelPipeline, type RowInput } from '../src/engine/model-pipeline.js';
import { SessionSampler } from '../src/engine/session-sampler.js';
import { DEFAULT_SAMPLING_PARAMS } from '../src/engine/sampling/sampling-params.js';
import { STAGES, type Stage } from '../src/engine/stage-timer.js';
import { createLmStepper } from '../src/model/lm/lm-stepper.js';
import type { LoadedModel } from '../src/model/manifest.js';
import { MimiRunner } from '../src/model/mimi/mimi-runner.js';
import type { SessionOptions } from '../src/model/onnx/session.js';
import { percentile, round } from './stats.js';

export interface BatchTiming {
  batch: number;
  tickP50Ms: number;
  tickP99Ms: number;
  /** Temporal + depformer per tick (the LM part). */
  lmP50Ms: number;
  stages: Record<Stage, { p50: number; p99: number }>;
}

/** Synthetic microphone input: a voiced-like mixture, different per session. */
export function syntheticFrame(session: number, frame: number, size = 1920): Float32Array {
  const out = new Float32Array(size);
  const f0 = 110 + 20 * (session % 7);
  for (let i = 0; i < size; i++) {
    const t = (frame * size + i) / 24000;
    out[i] = 0.2 * Math.sin(2 * Math.PI * f0 * t) + 0.05 * Math.sin(2 * Math.PI * 3.1 * f0 * t) + 0.01 * Math.sin(i * 12.9898 + session);
  }
  return out;
}

export async function createPipeline(model: LoadedModel, slots: number, opts: SessionOptions): Promise<ModelPipeline> {
  const { stepper: lm } = await createLmStepper(model, slots, opts, 'host');
  const codec = await MimiRunner.create(
    { encoder: model.path(model.manifest.files.mimiEncoder), decoder: model.path(model.manifest.files.mimiDecoder) },
    model.mimi, slots, opts,
  );
  return new ModelPipeline(lm, codec, slots);
}

function rows(pipe: ModelPipeline, model: LoadedModel, batch: number): RowInput[] {
  return Array.from({ length: batch }, (_, i) => ({
    exec: true,
    first: false,
    pcm: syntheticFrame(i, 0),
    sampler: new SessionSampler({ ...DEFAULT_SAMPLING_PARAMS, textSeed: BigInt(i + 1), audioSeed: BigInt(i + 101) }, pipe.lm.dims, model.lm),
  }));
}

/** Times `ticks` batched steps of `batch` sessions (after warm-up), stage by stage. */
export async function timeBatch(pipe: ModelPipeline, model: LoadedModel, batch: number, ticks: number, warmup = 3): Promise<BatchTiming> {
  for (let s = 0; s < batch; s++) pipe.resetSlot(s);
  const inputs = rows(pipe, model, batch);
  const tick: number[] = [];
  const lm: number[] = [];
  const per: Record<Stage, number[]> = Object.fromEntries(STAGES.map((s) => [s, [] as number[]])) as Record<Stage, number[]>;
  for (let k = 0; k < warmup + ticks; k++) {
    inputs.forEach((r, i) => (r.pcm = syntheticFrame(i, k)));
    const t0 = performance.now();
    const r = await pipe.step(inputs);
    if (k < warmup) continue;
    tick.push(performance.now() - t0);
    lm.push(r.times.temporal + r.times.depformer);
    for (const s of STAGES) per[s].push(r.times[s]);
  }
  return {
    batch,
    tickP50Ms: round(percentile(tick, 50)),
    tickP99Ms: round(percentile(tick, 99)),
    lmP50Ms: round(percentile(lm, 50)),
    stages: Object.fromEntries(STAGES.map((s) => [s, { p50: round(percentile(per[s], 50)), p99: round(percentile(per[s], 99)) }])) as BatchTiming['stages'],
  };
}
