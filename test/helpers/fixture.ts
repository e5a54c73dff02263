import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SafetensorsFile } from '../../src/model/checkpoint/safetensors.js';
import { SafetensorsWeights } from '../../src/model/checkpoint/weights.js';
import { parseLmConfig, type LmConfig } from '../../src/model/lm/config.js';
import { buildDepformerGraph } from '../../src/model/lm/depformer-graph.js';
import { buildDepformerFrameGraph } from '../../src/model/lm/depformer-frame-graph.js';
import { ConvertedWeights } from '../../src/model/lm/gpu/weights.js';
import { LmRunner } from '../../src/model/lm/lm-runner.js';
import { buildTemporalGraph } from '../../src/model/lm/temporal-graph.js';
import { encodeModel } from '../../src/model/onnx/serialize.js';

/** The shared tiny checkpoint (tests run from the repo root, shared/ beside it). */
export const FIXTURE = join(process.cwd(), '..', 'shared', 'fixtures', 'moshi-tiny-a');

export function fixtureLmConfig(overrides: Record<string, unknown> = {}): LmConfig {
  return parseLmConfig({ ...JSON.parse(readFileSync(join(FIXTURE, 'config.json'), 'utf8')), ...overrides });
}

export async function fixtureLmRunner(slots: number, overrides: Record<string, unknown> = {}): Promise<LmRunner> {
  const cfg = fixtureLmConfig(overrides);
  const src = new SafetensorsWeights(SafetensorsFile.open(join(FIXTURE, 'model.safetensors')));
  return LmRunner.create(cfg, {
    temporal: encodeModel(buildTemporalGraph(cfg, src)),
    depformer: Array.from({ length: cfg.dep_q }, (_, k) => encodeModel(buildDepformerGraph(cfg, src, k))),
    depformerFrame: encodeModel(buildDepformerFrameGraph(cfg, src, new ConvertedWeights('fp32'))),
  }, slots, { provider: 'cpu', intraOpThreads: 1 });
}
