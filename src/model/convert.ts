import { copyFileSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SafetensorsFile } from './checkpoint/safetensors.js';
import { SafetensorsWeights, type WeightSource } from './checkpoint/weights.js';
import { readCheckpointDir } from './checkpoint/checkpoint-dir.js';
import type { LmConfig } from './lm/config.js';
import { buildDepformerGraph } from './lm/depformer-graph.js';
import { buildDepformerFrameGraph } from './lm/depformer-frame-graph.js';
import { inlineOutputs } from './lm/gpu/inline-outputs.js';
import { buildTemporalGraph } from './lm/temporal-graph.js';
import { loadMimiConfig, parseMimiConfig, type MimiConfig } from './mimi/config.js';
import { buildMimiGraphs } from './mimi/graphs.js';
import { MANIFEST_FILE, MANIFEST_VERSION, type Manifest } from './manifest.js';
import type { GraphDef } from './onnx/graph-builder.js';
import { writeModel } from './onnx/serialize.js';
import { buildGpuLmGraphs } from './lm/gpu-lm-runner.js';
import type { Precision } from './lm/gpu/precision.js';
import { ConvertedWeights, type StorageWeights } from './lm/gpu/weights.js';

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

export interface ConvertOptions {
  /**
   * Also write the device-cache LM graphs (lm/gpu/) with weights in this
   * precision: fp16, or int4 (MatMulNBits) for the large matrices. The
   * host-cache graphs stay float32 (onnxruntime's CPU provider has no fast
   * float16 MatMul).
   */
  gpuPrecision?: Precision;
  /**
   * Write only the device-cache LM graphs (with gpuPrecision), not the
   * float32 host-cache ones: a GPU server never reads those, and for Moshi 7B
   * they are 28 GB. Such a model serves only with device caches.
   */
  deviceOnly?: boolean;
  /** Where the device graphs' large tensors come from (default: the source's weights converted to gpuPrecision). */
  gpuWeights?: StorageWeights;
}

/**
 * Builds every graph from the config and weights and writes a model
 * directory. The manifest is written last, so a directory with a manifest is
 * complete.
 */
export function convertModel(src: ModelSource, outDir: string, log: (msg: string) => void = () => {}, opts: ConvertOptions = {}): Manifest {
  if (opts.deviceOnly && !opts.gpuPrecision) throw new Error('a device-only conversion needs a precision for the device graphs (--precision fp32|fp16|int4)');
  mkdirSync(outDir, { recursive: true });
  let lmParams = 0;
  let host: { temporal: string; depformer: string[]; depformerFrame: string } | undefined;
  if (!opts.deviceOnly) {
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
    log('building the depformer frame graph');
    writeModel(inlineOutputs(buildDepformerFrameGraph(src.lm, src.lmWeights, new ConvertedWeights('fp32'))), join(outDir, 'depformer_frame.onnx'));
    host = { temporal: 'temporal.onnx', depformer, depformerFrame: 'depformer_frame.onnx' };
  }
  let gpu: Manifest['files']['gpu'];
  if (opts.gpuPrecision) {
    log(`building device-cache LM graphs (${opts.gpuPrecision})`);
    const g = buildGpuLmGraphs(src.lm, src.lmWeights, opts.gpuWeights ?? new ConvertedWeights(opts.gpuPrecision));
    // Parameters as the device graphs store them (int4 blocks are not counted).
    if (opts.deviceOnly) lmParams = paramCount(g.temporal) + paramCount(g.depformerFrame);
    writeModel(g.temporal, join(outDir, 'gpu_temporal.onnx'));
    const dep = g.depformer.map((graph, k) => {
      writeModel(graph, join(outDir, `gpu_depformer_${k}.onnx`));
      return `gpu_depformer_${k}.onnx`;
    });
    writeModel(g.depformerFrame, join(outDir, 'gpu_depformer_frame.onnx'));
    gpu = { precision: opts.gpuPrecision, temporal: 'gpu_temporal.onnx', depformer: dep, depformerFrame: 'gpu_depformer_frame.onnx' };
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
    files: { ...host, mimiEncoder: 'mimi_encoder.onnx', mimiDecoder: 'mimi_decoder.onnx', tokenizer, ...(gpu ? { gpu } : {}) },
    stats: { lmParams, mimiParams: paramCount(mimi.encoder) + paramCount(mimi.decoder) },
  };
  const tmp = join(outDir, `${MANIFEST_FILE}.tmp`);
  writeFileSync(tmp, JSON.stringify(manifest, null, 2));
  renameSync(tmp, join(outDir, MANIFEST_FILE));
  return manifest;
}
