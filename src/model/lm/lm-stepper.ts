import type { LoadedModel } from '../manifest.js';
import type { SessionOptions } from '../onnx/session.js';
import type { LmConfig, LmDims } from './config.js';
import type { AudioDraws } from './depformer-frame.js';
import { GpuLmRunner } from './gpu-lm-runner.js';
import { LmRunner, type TemporalResult } from './lm-runner.js';

/**
 * What the engine needs of a language-model runner. Two implement it:
 * LmRunner keeps the KV caches in host memory (read by the graphs without a
 * copy: right for the CPU), GpuLmRunner keeps them on the device as graph
 * outputs fed back (right for a GPU, where host caches would cross the bus
 * every step).
 */
export interface LmStepper {
  readonly dims: LmDims;
  readonly config: LmConfig;
  /** KV cache bytes held per session. */
  readonly bytesPerSlot: number;
  temporalStep(rows: number, T: number, indices: BigInt64Array, exec?: Uint8Array): Promise<TemporalResult>;
  beginDepformer(rows: number): void;
  depformerStep(k: number, rows: number, hidden: Float32Array, prevTokens: BigInt64Array): Promise<Float32Array>;
  /** The depformer's whole frame with sampling in the graph: audio tokens [rows, Q] after text tokens [rows] (-1: none). */
  depformerFrame(rows: number, hidden: Float32Array, textTokens: Int32Array, draws: AudioDraws): Promise<Int32Array>;
  resetSlot(slot: number): void;
  moveSlot(from: number, to: number): void;
  release(): Promise<void>;
}

/** Where the LM's KV caches live: `auto` puts them on the device for a GPU provider when the model has device graphs. */
export type LmCaches = 'auto' | 'host' | 'device';

export interface LmStepperChoice {
  stepper: LmStepper;
  caches: 'host' | 'device';
}

export async function createLmStepper(model: LoadedModel, slots: number, opts: SessionOptions, caches: LmCaches = 'auto'): Promise<LmStepperChoice> {
  const gpu = model.manifest.files.gpu;
  const device = caches === 'device' || (caches === 'auto' && opts.provider !== 'cpu' && gpu !== undefined);
  if (device) {
    if (!gpu) throw new Error(`${model.dir} has no device-cache graphs: convert it with \`parley convert --precision fp32|fp16|int4\``);
    const stepper = await GpuLmRunner.create(model.lm, {
      temporal: model.path(gpu.temporal), depformer: gpu.depformer.map((f) => model.path(f)), depformerFrame: model.path(gpu.depformerFrame),
      precision: gpu.precision,
    }, slots, opts);
    return { stepper, caches: 'device' };
  }
  const { temporal, depformer, depformerFrame } = model.manifest.files;
  if (temporal === undefined || depformer === undefined || depformerFrame === undefined) {
    throw new Error(`${model.dir} was converted for device caches only (--device-only): serve it with a GPU provider and device caches, or convert it again without --device-only`);
  }
  const stepper = await LmRunner.create(model.lm, {
    temporal: model.path(temporal),
    depformer: depformer.map((f) => model.path(f)),
    depformerFrame: model.path(depformerFrame),
  }, slots, opts);
  return { stepper, caches: 'host' };
}
