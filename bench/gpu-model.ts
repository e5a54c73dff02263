// Builds the device-cache LM graphs of a preset on this machine (weights drawn
// directly in storage precision, see RandomStorageWeights) and writes them
// with external data, since a 7B graph is far past protobuf's 2 GB.
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseLmConfig, type LmConfig } from '../src/model/lm/config.js';
import { buildGpuLmGraphs, type GpuLmGraphs } from '../src/model/lm/gpu-lm-runner.js';
import type { Precision } from '../src/model/lm/gpu/precision.js';
import { RandomStorageWeights } from '../src/model/lm/gpu/weights.js';
import { writeModel } from '../src/model/onnx/serialize.js';
import { presetSource } from '../src/model/presets/presets.js';

export interface BuiltModel {
  cfg: LmConfig;
  graphs: GpuLmGraphs;
  /** Bytes of weights one step reads: the temporal graph's and every depformer step's. */
  weightBytes: { temporal: number; depformer: number };
  buildSeconds: number;
}

/** The preset's LM config, optionally with fewer temporal layers (quick trial runs). */
export function presetLmConfig(preset: string, layers?: number): LmConfig {
  const lm = presetSource(preset).lm;
  return layers ? parseLmConfig({ ...lm, num_layers: layers }, `preset ${preset}`) : lm;
}

export function buildDeviceModel(cfg: LmConfig, preset: string, precision: Precision, dir: string, log: (m: string) => void): BuiltModel {
  const t0 = performance.now();
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  // Norm scales (the only tensors read through the source) follow the preset's rule.
  const src = presetSource(preset).lmWeights;
  const g = buildGpuLmGraphs(cfg, src, new RandomStorageWeights(precision, 1234));
  log(`  built ${precision} graphs in ${((performance.now() - t0) / 1000).toFixed(1)} s; writing`);
  const temporal = join(dir, 'temporal.onnx');
  writeModel(g.temporal, temporal);
  const depformer = g.depformer.map((graph, k) => {
    const f = join(dir, `depformer_${k}.onnx`);
    writeModel(graph, f);
    return f;
  });
  const depformerFrame = join(dir, 'depformer_frame.onnx');
  writeModel(g.depformerFrame, depformerFrame);
  const bytes = (f: string) => statSync(f).size + (exists(`${f}.data`) ? statSync(`${f}.data`).size : 0);
  return {
    cfg,
    graphs: { temporal, depformer, depformerFrame, precision },
    // Served frames read the frame graph's copy of the depformer weights.
    weightBytes: { temporal: bytes(temporal), depformer: bytes(depformerFrame) },
    buildSeconds: (performance.now() - t0) / 1000,
  };
}

function exists(f: string): boolean {
  try {
    statSync(f);
    return true;
  } catch {
    return false;
  }
}
