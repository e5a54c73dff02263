import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { SafetensorsFile } from '../../src/model/checkpoint/safetensors.js';
import { lmStepBytes } from '../../src/model/flops.js';
import { KvRing } from '../../src/model/runtime/kv-ring.js';
import { lmDims } from '../../src/model/lm/config.js';
import { FIXTURE, fixtureLmConfig } from '../helpers/fixture.js';

test('an LM step reads every product weight of the checkpoint once, and no embedding or norm', () => {
  const cfg = fixtureLmConfig();
  const file = SafetensorsFile.open(join(FIXTURE, 'model.safetensors'));
  // Embedding tables are gathered (a row per token), norms are vectors: neither is a product's weight.
  const products = file.names().filter((n) => !/emb|norm/.test(n));
  const elements = products.reduce((sum, n) => sum + file.info(n).shape.reduce((a, d) => a * d, 1), 0);
  assert.ok(products.some((n) => n.startsWith('depformer.layers.1.gating.7')), 'per-step depformer weights are counted');
  assert.equal(lmStepBytes(cfg).weights, 4 * elements);
});

test('an LM step reads each session\'s whole KV window, the bytes a KV pool holds per slot', () => {
  const cfg = fixtureLmConfig();
  const d = lmDims(cfg);
  const ring = new KvRing(d.layers, 1, d.heads, d.dimPerHead, cfg.context);
  assert.equal(lmStepBytes(cfg).kvPerSession, ring.bytesPerSlot);
});
