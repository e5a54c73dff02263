import { join } from 'node:path';
import { SafetensorsFile } from '../../../src/model/checkpoint/safetensors.js';
import { SafetensorsWeights } from '../../../src/model/checkpoint/weights.js';
import { embeddingIndices, embeddingLayout } from '../../../src/model/lm/embeddings.js';
import { LmRunner } from '../../../src/model/lm/lm-runner.js';
import { buildPrefillGraph } from '../../../src/model/lm/prefill-graph.js';
import { buildTemporalGraph } from '../../../src/model/lm/temporal-graph.js';
import { encodeModel } from '../../../src/model/onnx/serialize.js';
import { FIXTURE, fixtureLmConfig } from '../../helpers/fixture.js';

/** The fixture's LM with the streaming temporal graph and both prefill graphs (no depformer). */
export async function fixturePrefillRunner(slots: number, overrides: Record<string, unknown> = {}): Promise<LmRunner> {
  const cfg = fixtureLmConfig(overrides);
  const src = new SafetensorsWeights(SafetensorsFile.open(join(FIXTURE, 'model.safetensors')));
  return LmRunner.create(cfg, {
    temporal: encodeModel(buildTemporalGraph(cfg, src)),
    depformer: [],
    prefill: encodeModel(buildPrefillGraph(cfg, src, { moba: false })),
    prefillMoba: encodeModel(buildPrefillGraph(cfg, src, { moba: true })),
  }, slots, { provider: 'cpu', intraOpThreads: 1 });
}

/** A deterministic history, frames × streams, with -1 (no token) sprinkled in like the start of a session. */
export function syntheticHistory(frames: number, streams: number, textCard: number, card: number, seed = 1): Int32Array {
  const h = new Int32Array(frames * streams);
  let s = seed >>> 0;
  for (let i = 0; i < h.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const stream = i % streams;
    h[i] = i < 2 * streams && stream > 0 ? -1 : s % (stream === 0 ? textCard : card);
  }
  return h;
}

/** Steps a history frame by frame through the streaming graph; returns the last frame's text logits. */
export async function stepHistory(runner: LmRunner, slot: number, history: Int32Array): Promise<Float32Array> {
  const d = runner.dims;
  const layout = embeddingLayout(d);
  const frames = history.length / d.streams;
  const rows = slot + 1;
  const exec = new Uint8Array(rows);
  exec[slot] = 1;
  runner.resetSlot(slot);
  let logits = new Float32Array(0);
  for (let t = 0; t < frames; t++) {
    const idx = new BigInt64Array(rows * d.streams);
    for (let r = 0; r < rows; r++) embeddingIndices(layout, history.subarray(t * d.streams, (t + 1) * d.streams), idx, r * d.streams);
    const out = await runner.temporalStep(rows, 1, idx, exec);
    logits = out.textLogits.slice(slot * d.textCard, (slot + 1) * d.textCard);
  }
  return logits;
}

/** One streaming step of `slot` (others held still) with the given tokens; returns its text logits. */
export async function stepOne(runner: LmRunner, slot: number, tokens: ArrayLike<number>): Promise<Float32Array> {
  const d = runner.dims;
  const rows = slot + 1;
  const exec = new Uint8Array(rows);
  exec[slot] = 1;
  const idx = new BigInt64Array(rows * d.streams);
  for (let r = 0; r < rows; r++) embeddingIndices(embeddingLayout(d), tokens, idx, r * d.streams);
  const out = await runner.temporalStep(rows, 1, idx, exec);
  return out.textLogits.slice(slot * d.textCard, (slot + 1) * d.textCard);
}

export { maxAbsDiff } from '../../helpers/arrays.js';
