import { join } from 'node:path';
import { SafetensorsFile } from '../../../../src/model/checkpoint/safetensors.js';
import { SafetensorsWeights } from '../../../../src/model/checkpoint/weights.js';
import type { Precision } from '../../../../src/model/lm/gpu/precision.js';
import { ConvertedWeights } from '../../../../src/model/lm/gpu/weights.js';
import { buildGpuLmGraphs, GpuLmRunner } from '../../../../src/model/lm/gpu-lm-runner.js';
import type { ExecutionProvider } from '../../../../src/model/onnx/session.js';
import { encodeModel } from '../../../../src/model/onnx/serialize.js';
import { FIXTURE, fixtureLmConfig } from '../../../helpers/fixture.js';

/** The fixture's LM with its caches on the device (host tensors on the CPU provider). */
export interface FixtureGpuOptions {
  precision?: Precision;
  /** Ring length (default: the context). */
  capacity?: number;
  /** Overrides the fixture's context. */
  context?: number;
  provider?: ExecutionProvider;
}

export async function fixtureGpuRunner(slots: number, { precision = 'fp32', capacity, context, provider = 'cpu' }: FixtureGpuOptions = {}): Promise<GpuLmRunner> {
  const cfg = context === undefined ? fixtureLmConfig() : { ...fixtureLmConfig(), context };
  const src = new SafetensorsWeights(SafetensorsFile.open(join(FIXTURE, 'model.safetensors')));
  const g = buildGpuLmGraphs(cfg, src, new ConvertedWeights(precision));
  return GpuLmRunner.create(cfg, {
    temporal: encodeModel(g.temporal),
    depformer: g.depformer.map((d) => encodeModel(d)),
    depformerFrame: encodeModel(g.depformerFrame),
    precision,
  }, slots, { provider, intraOpThreads: 1 }, capacity ? { capacity } : {});
}
