import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { SafetensorsFile } from '../checkpoint/safetensors.js';
import { SafetensorsWeights } from '../checkpoint/weights.js';
import { encodeModel } from '../onnx/serialize.js';
import { defaultSessionOptions, type SessionOptions } from '../onnx/session.js';
import { loadMimiConfig } from './config.js';
import { buildMimiGraphs } from './graphs.js';
import { MimiRunner } from './mimi-runner.js';

const referenceSchema = z.object({
  mimi: z.object({
    frame_size: z.number().int().positive(),
    num_codebooks: z.number().int().positive().optional(),
    input_pcm: z.array(z.number()),
    codes: z.array(z.array(z.number().int())),
    decoded_pcm: z.array(z.number()),
  }),
});
export type MimiReference = z.infer<typeof referenceSchema>['mimi'];

export function readMimiReference(fixtureDir: string): MimiReference {
  return referenceSchema.parse(JSON.parse(readFileSync(join(fixtureDir, 'reference.json'), 'utf8'))).mimi;
}

export interface MimiParity {
  codesMatched: number;
  codesTotal: number;
  /** ‖decoded − reference‖₂ / ‖reference‖₂ over all frames. */
  pcmRelL2: number;
  /** Frames whose codes differ (t indices). */
  mismatchedFrames: number[];
}

/**
 * Streams the fixture's `mimi.input_pcm` through the encoder one frame at a
 * time from a fresh state and compares with `mimi.codes`; then streams
 * `mimi.codes` through the decoder and compares with `mimi.decoded_pcm`.
 */
export async function mimiParity(fixtureDir: string, opts: SessionOptions = defaultSessionOptions): Promise<MimiParity> {
  const ref = readMimiReference(fixtureDir);
  const cfg = loadMimiConfig(join(fixtureDir, 'mimi_config.json'));
  const file = SafetensorsFile.open(join(fixtureDir, 'mimi.safetensors'));
  const numCodebooks = ref.num_codebooks ?? ref.codes[0]!.length;
  let graphs;
  try {
    graphs = buildMimiGraphs(cfg, new SafetensorsWeights(file), numCodebooks);
  } finally {
    file.close();
  }
  const F = graphs.layout.frameSize;
  if (F !== ref.frame_size) throw new Error(`fixture frame_size ${ref.frame_size} but the config gives ${F}`);
  const runner = await MimiRunner.create({ encoder: encodeModel(graphs.encoder), decoder: encodeModel(graphs.decoder) }, graphs.layout, 1, opts);
  try {
    const frames = ref.codes.length;
    const pcm = Float32Array.from(ref.input_pcm);
    let codesMatched = 0;
    let codesTotal = 0;
    const mismatchedFrames: number[] = [];
    for (let t = 0; t < frames; t++) {
      const codes = await runner.encode(1, pcm.subarray(t * F, (t + 1) * F));
      const want = ref.codes[t]!;
      let ok = true;
      for (let q = 0; q < numCodebooks; q++) {
        codesTotal++;
        if (codes[q] === want[q]) codesMatched++;
        else ok = false;
      }
      if (!ok) mismatchedFrames.push(t);
    }
    let err = 0;
    let norm = 0;
    for (let t = 0; t < frames; t++) {
      const out = await runner.decode(1, Int32Array.from(ref.codes[t]!));
      for (let i = 0; i < F; i++) {
        const r = ref.decoded_pcm[t * F + i]!;
        err += (out[i]! - r) ** 2;
        norm += r * r;
      }
    }
    return { codesMatched, codesTotal, pcmRelL2: Math.sqrt(err / norm), mismatchedFrames };
  } finally {
    await runner.release();
  }
}
