import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeModel } from '../../../src/model/onnx/serialize.js';
import { defaultMimiConfig } from '../../../src/model/mimi/config.js';
import { buildMimiGraphs } from '../../../src/model/mimi/graphs.js';
import { parseMimiLayout } from '../../../src/model/mimi/layout.js';
import { MimiRunner } from '../../../src/model/mimi/mimi-runner.js';
import { randomMimiWeights } from '../../../src/model/mimi/random-weights.js';
import { ONE_THREAD } from './fixture.js';

test('the real Kyutai Mimi shape with random weights builds and codes one batched frame for 2 sessions', async () => {
  const g = buildMimiGraphs(defaultMimiConfig, randomMimiWeights(defaultMimiConfig, 1), 8);
  const layout = parseMimiLayout(JSON.parse(JSON.stringify(g.layout)));
  assert.equal(layout.frameSize, 1920);
  assert.deepEqual(layout.encoder.transformer, { layers: 8, heads: 8, dimPerHead: 64, context: 250, steps: 2, ropeMaxPeriod: 10000 });
  const r = await MimiRunner.create({ encoder: encodeModel(g.encoder), decoder: encodeModel(g.decoder) }, layout, 2, ONE_THREAD);
  try {
    const F = 1920;
    const pcm = Float32Array.from({ length: 2 * F }, (_, i) => (i < F ? 0.3 * Math.sin(i * 0.05) : 0.2 * Math.sin(i * 0.31)));
    const codes = await r.encode(2, pcm);
    assert.equal(codes.length, 16);
    assert.ok(codes.every((c) => c >= 0 && c < 2048));
    assert.notDeepEqual(codes.subarray(0, 8), codes.subarray(8, 16), 'different audio, different codes');
    const out = await r.decode(2, codes);
    assert.equal(out.length, 2 * F);
    assert.ok(out.every(Number.isFinite));
    assert.ok(out.some((v) => v !== 0));
    // Conv histories (~97 KB) and two 8-layer KV rings of 250 steps (16 MiB).
    const rings = 2 * 8 * 2 * 8 * 64 * 250 * 4;
    assert.ok(r.bytesPerSlot > rings && r.bytesPerSlot < rings + 200_000, `bytesPerSlot ${r.bytesPerSlot}`);
  } finally {
    await r.release();
  }
});
