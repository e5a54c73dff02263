import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { SafetensorsFile } from '../../../src/model/checkpoint/safetensors.js';
import { defaultMimiConfig } from '../../../src/model/mimi/config.js';
import { randomMimiWeights } from '../../../src/model/mimi/random-weights.js';
import { mimiTensorShapes } from '../../../src/model/mimi/tensor-shapes.js';
import { FIXTURE_DIR, fixtureConfig } from './fixture.js';

test('the checkpoint tensor list derived from the config is exactly the fixture checkpoint', () => {
  const file = SafetensorsFile.open(join(FIXTURE_DIR, 'mimi.safetensors'));
  try {
    const found = new Map(file.names().map((n) => [n, file.info(n).shape]));
    const expected = mimiTensorShapes(fixtureConfig());
    assert.deepEqual([...expected.keys()].sort(), [...found.keys()].sort());
    for (const [name, shape] of expected) assert.deepEqual(shape, found.get(name), name);
  } finally {
    file.close();
  }
});

test('the real Mimi shape has Kyutai Mimi tensor sizes', () => {
  const shapes = mimiTensorShapes(defaultMimiConfig);
  assert.deepEqual(shapes.get('encoder.model.0.conv.conv.weight'), [64, 1, 7]);
  assert.deepEqual(shapes.get('encoder.model.12.conv.conv.weight'), [1024, 512, 16]);
  assert.deepEqual(shapes.get('encoder.model.14.conv.conv.weight'), [512, 1024, 3]);
  assert.deepEqual(shapes.get('decoder.model.2.convtr.convtr.weight'), [1024, 512, 16]);
  assert.deepEqual(shapes.get('downsample.conv.conv.conv.weight'), [512, 512, 4]);
  assert.deepEqual(shapes.get('upsample.convtr.convtr.convtr.weight'), [512, 1, 4]);
  assert.deepEqual(shapes.get('encoder_transformer.transformer.layers.7.linear1.weight'), [2048, 512]);
  assert.deepEqual(shapes.get('quantizer.rvq_rest.vq.layers.30._codebook.embedding_sum'), [2048, 256]);
  assert.equal(shapes.has('quantizer.rvq_rest.vq.layers.31._codebook.embedding_sum'), false);
});

test('random Mimi weights cover exactly the checkpoint tensors with sensible fills', () => {
  const cfg = fixtureConfig();
  const w = randomMimiWeights(cfg, 7);
  const shapes = mimiTensorShapes(cfg);
  for (const [name, shape] of shapes) assert.ok(w.has(name), name);
  assert.equal(w.has('encoder.model.99.conv.conv.weight'), false);
  assert.throws(() => w.get('encoder.model.0.conv.conv.weight', [4, 1, 5]), /encoder\.model\.0\.conv\.conv\.weight/);
  const ls = w.get('encoder_transformer.transformer.layers.0.layer_scale_1.scale', [32]);
  assert.ok(ls.every((v) => Math.abs(v - 0.01) < 1e-9));
  assert.ok(w.get('quantizer.rvq_first.vq.layers.0._codebook.cluster_usage', [64]).every((v) => v === 1));
  assert.ok(w.get('encoder.model.0.conv.conv.bias', [4]).every((v) => v === 0));
  const conv = w.get('encoder.model.14.conv.conv.weight', [32, 64, 3]);
  const std = Math.sqrt(conv.reduce((a, v) => a + v * v, 0) / conv.length);
  assert.ok(Math.abs(std - 1 / Math.sqrt(64 * 3)) < 0.02, `std ${std}`);
  // Seeded: the same seed gives the same weights, another seed others.
  assert.deepEqual(randomMimiWeights(cfg, 7).get('encoder.model.14.conv.conv.weight', [32, 64, 3]), conv);
  assert.notDeepEqual(randomMimiWeights(cfg, 8).get('encoder.model.14.conv.conv.weight', [32, 64, 3]), conv);
});
