import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lmDims, parseLmConfig } from '../../../src/model/lm/config.js';

test('an empty config is Moshi 7B', () => {
  const d = lmDims(parseLmConfig({}));
  assert.equal(d.dim, 4096);
  assert.equal(d.layers, 32);
  assert.equal(d.ffnHidden, 11264);
  assert.equal(d.depFfnHidden, 2816);
  assert.equal(d.streams, 17);
});

test('wrong types are rejected, naming each field', () => {
  assert.throws(() => parseLmConfig({ dim: '64', num_layers: -1 }, 'x.json'), (e: Error) =>
    /invalid LM config in x\.json/.test(e.message) && /dim: /.test(e.message) && /num_layers: /.test(e.message));
});

test('inconsistent delays and unsupported options are rejected', () => {
  assert.throws(() => parseLmConfig({ n_q: 2, dep_q: 1, delays: [0, 1] }), /delays: needs n_q \+ 1 = 3 entries/);
  assert.throws(() => parseLmConfig({ depformer_pos_emb: 'rope' }), /depformer_pos_emb/);
});
