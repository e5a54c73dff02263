import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeModel } from '../../../src/model/onnx/serialize.js';
import { buildMimiGraphs } from '../../../src/model/mimi/graphs.js';
import { parseMimiLayout } from '../../../src/model/mimi/layout.js';
import { MimiRunner } from '../../../src/model/mimi/mimi-runner.js';
import { readMimiReference } from '../../../src/model/mimi/parity.js';
import { FIXTURE_DIR, fixtureConfig, fixtureWeights, ONE_THREAD } from './fixture.js';

test('a runner made from ONNX files and the JSON layout alone reproduces the reference codes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-mimi-files-'));
  try {
    const g = buildMimiGraphs(fixtureConfig(), fixtureWeights(), 8);
    writeModel(g.encoder, join(dir, 'mimi-encoder.onnx'));
    writeModel(g.decoder, join(dir, 'mimi-decoder.onnx'));
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ mimi: g.layout }));
    const layout = parseMimiLayout((JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { mimi: unknown }).mimi);
    assert.deepEqual(layout, g.layout);
    const r = await MimiRunner.create({ encoder: join(dir, 'mimi-encoder.onnx'), decoder: join(dir, 'mimi-decoder.onnx') }, layout, 1, ONE_THREAD);
    try {
      const ref = readMimiReference(FIXTURE_DIR);
      const pcm = Float32Array.from(ref.input_pcm);
      const F = layout.frameSize;
      for (let t = 0; t < ref.codes.length; t++) {
        assert.deepEqual([...(await r.encode(1, pcm.subarray(t * F, (t + 1) * F)))], ref.codes[t], `frame ${t}`);
      }
    } finally {
      await r.release();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a layout with a wrong field is refused naming it', () => {
  const g = buildMimiGraphs(fixtureConfig(), fixtureWeights(), 8);
  const bad = JSON.parse(JSON.stringify(g.layout)) as { encoder: { transformer: { context: unknown } } };
  bad.encoder.transformer.context = '250';
  assert.throws(() => parseMimiLayout(bad), /encoder\.transformer\.context/);
});
