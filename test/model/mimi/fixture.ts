// Shared by the Mimi tests: the tiny fixture checkpoint and helpers.
import { join } from 'node:path';
import { SafetensorsFile } from '../../../src/model/checkpoint/safetensors.js';
import { SafetensorsWeights, type WeightSource } from '../../../src/model/checkpoint/weights.js';
import { encodeModel } from '../../../src/model/onnx/serialize.js';
import { loadMimiConfig, type MimiConfig } from '../../../src/model/mimi/config.js';
import { buildMimiGraphs } from '../../../src/model/mimi/graphs.js';
import { MimiRunner } from '../../../src/model/mimi/mimi-runner.js';
import type { MimiLayout } from '../../../src/model/mimi/layout.js';

export const FIXTURE_DIR = join(process.cwd(), '..', 'shared', 'fixtures', 'moshi-tiny-a');
export const ONE_THREAD = { provider: 'cpu', intraOpThreads: 1 } as const;

export function fixtureConfig(): MimiConfig {
  return loadMimiConfig(join(FIXTURE_DIR, 'mimi_config.json'));
}

/** Fixture weights, read into memory once (the file is closed afterwards). */
export function fixtureWeights(): WeightSource {
  const file = SafetensorsFile.open(join(FIXTURE_DIR, 'mimi.safetensors'));
  try {
    const src = new SafetensorsWeights(file);
    const cache = new Map<string, Float32Array>();
    for (const name of file.names()) cache.set(name, Float32Array.from(file.readF32(name)));
    return {
      label: src.label,
      has: (name) => cache.has(name),
      get: (name, shape) => {
        const v = cache.get(name);
        if (!v) throw new Error(`missing tensor ${name}`);
        const n = shape.reduce((a, b) => a * b, 1);
        if (v.length !== n) throw new Error(`tensor ${name}: ${v.length} elements for [${shape.join(', ')}]`);
        return v;
      },
    };
  } finally {
    file.close();
  }
}

export interface BuiltModels {
  models: { encoder: Uint8Array; decoder: Uint8Array };
  layout: MimiLayout;
}

export function buildModels(cfg: MimiConfig, weights: WeightSource, numCodebooks = 8): BuiltModels {
  const g = buildMimiGraphs(cfg, weights, numCodebooks);
  return { models: { encoder: encodeModel(g.encoder), decoder: encodeModel(g.decoder) }, layout: g.layout };
}

export function createRunner(built: BuiltModels, slots: number): Promise<MimiRunner> {
  return MimiRunner.create(built.models, built.layout, slots, ONE_THREAD);
}
