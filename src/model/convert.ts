import { copyFileSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SafetensorsFile } from './checkpoint/safetensors.js';
import { SafetensorsWeights, type WeightSource } from './checkpoint/weights.js';
import { readCheckpointDir } from './checkpoint/checkpoint-dir.js';
import type { LmConfig } from './lm/config.js';
import { buildDepformerGraph } from './lm/depformer-graph.js';
import { buildTemporalGraph } from './lm/temporal-graph.js';
import { loadMimiConfig, parseMimiConfig, type MimiConfig } from './mimi/config.js';
import { buildMimiGraphs } from './mimi/graphs.js';
import { MANIFEST_FILE, MANIFEST_VERSION, type Manifest } from './manifest.js';
import type { GraphDef } from './onnx/graph-builder.js';
import { writeModel } from './onnx/serialize.js';

export interface ModelSource {
  name: string;
  source: string;
  lm: LmConfig;
  lmWeights: WeightSource;
  mimi: MimiConfig;
  mimiWeights: WeightSource;
  /** A tokenizer file to copy, or its bytes; null for none. */
  tokenizer: string | Uint8Array | null;
}

/** A Kyutai checkpoint directory as a conversion source. */
export function checkpointSource(dir: string): ModelSource {
  const ck = readCheckpointDir(dir);
  return {
    name: ck.lm.model_type === 'moshi' ? `moshi:${dir.split('/').filter(Boolean).pop()}` : ck.lm.model_type,
    source: dir,
    lm: ck.lm,
    lmWeights: new SafetensorsWeights(SafetensorsFile.open(ck.lmWeights)),
    mimi: ck.mimiConfig === null ? loadMimiConfig(null) : parseMimiConfig(ck.mimiConfig, join(dir, ck.lm.mimi_config_name ?? '')),
    mimiWeights: new SafetensorsWeights(SafetensorsFile.open(ck.mimiWeights)),
    tokenizer: ck.tokenizer,
  };
}

function paramCount(g: GraphDef): number {
  return g.initializers.reduce((n, i) => n + (i.dtype === 'float32' || i.dtype === 'float16' ? i.data.length : 0), 0);
}

/**
 * Builds every graph from the config and weights and writes a model
 * directory. The manifest is written last, so a directory with a manifest is
 * complete.
 */
export function convertModel(src: ModelSource, outDir: string, log: (msg: string) => void = () => {}): Manifest {
  mkdirSync(outDir, { recursive: true });
  let lmParams = 0;
  log(`building temporal transformer (${src.lm.num_layers} layers, dim ${src.lm.dim})`);
  const temporal = buildTemporalGraph(src.lm, src.lmWeights);
  lmParams += paramCount(temporal);
  writeModel(temporal, join(outDir, 'temporal.onnx'));
  const depformer: string[] = [];
  for (let k = 0; k < src.lm.dep_q; k++) {
    const g = buildDepformerGraph(src.lm, src.lmWeights, k);
    lmParams += paramCount(g);
    const file = `depformer_${k}.onnx`;
    writeModel(g, join(outDir, file));
    depformer.push(file);
  }
  log('building Mimi encoder and decoder');
  const mimi = buildMimiGraphs(src.mimi, src.mimiWeights, src.lm.dep_q);
  writeModel(mimi.encoder, join(outDir, 'mimi_encoder.onnx'));
  writeModel(mimi.decoder, join(outDir, 'mimi_decoder.onnx'));
  let tokenizer: string | null = null;
  if (src.tokenizer !== null) {
    tokenizer = 'tokenizer.model';
    if (typeof src.tokenizer === 'string') copyFileSync(src.tokenizer, join(outDir, tokenizer));
    else writeFileSync(join(outDir, tokenizer), src.tokenizer);
  }
  const { moshi_name: _a, mimi_name: _b, tokenizer_name: _c, mimi_config_name: _d, ...lm } = src.lm;
  const manifest: Manifest = {
    format: 'parley-model',
    version: MANIFEST_VERSION,
    name: src.name,
    source: src.source,
    createdAt: new Date().toISOString(),
    precision: 'float32',
    lm,
    mimi: mimi.layout,
    files: { temporal: 'temporal.onnx', depformer, mimiEncoder: 'mimi_encoder.onnx', mimiDecoder: 'mimi_decoder.onnx', tokenizer },
    stats: { lmParams, mimiParams: paramCount(mimi.encoder) + paramCount(mimi.decoder) },
  };
  const tmp = join(outDir, `${MANIFEST_FILE}.tmp`);
  writeFileSync(tmp, JSON.stringify(manifest, null, 2));
  renameSync(tmp, join(outDir, MANIFEST_FILE));
  return manifest;
}
