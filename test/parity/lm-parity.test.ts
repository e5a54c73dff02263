import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SafetensorsFile } from '../../src/model/checkpoint/safetensors.js';
import { SafetensorsWeights } from '../../src/model/checkpoint/weights.js';
import { parseLmConfig } from '../../src/model/lm/config.js';
import { buildTemporalGraph } from '../../src/model/lm/temporal-graph.js';
import { buildDepformerGraph } from '../../src/model/lm/depformer-graph.js';
import { LmRunner } from '../../src/model/lm/lm-runner.js';
import { encodeModel } from '../../src/model/onnx/serialize.js';
import { loadReference } from '../../src/parity/reference.js';
import { lmParity } from '../../src/parity/lm-parity.js';

const FIXTURE = join(process.cwd(), '..', 'shared', 'fixtures', 'moshi-tiny-a');

test('the LM matches the reference logits and greedy outputs on the fixture', async () => {
  const cfg = parseLmConfig(JSON.parse(readFileSync(join(FIXTURE, 'config.json'), 'utf8')));
  const src = new SafetensorsWeights(SafetensorsFile.open(join(FIXTURE, 'model.safetensors')));
  const graphs = {
    temporal: encodeModel(buildTemporalGraph(cfg, src)),
    depformer: Array.from({ length: cfg.dep_q }, (_, k) => encodeModel(buildDepformerGraph(cfg, src, k))),
  };
  const runner = await LmRunner.create(cfg, graphs, 1, { provider: 'cpu', intraOpThreads: 1 });
  const ref = loadReference(join(FIXTURE, 'reference.json'));
  const r = await lmParity(runner, cfg.delays, ref.lm);
  console.log(r.maxTextLogitDiff, r.maxDepformerLogitDiff, r.greedyMatched, r.greedyTotal);
  assert.ok(r.maxTextLogitDiff < 1e-3, `text logits differ by ${r.maxTextLogitDiff}`);
  assert.ok(r.maxDepformerLogitDiff < 1e-3, `depformer logits differ by ${r.maxDepformerLogitDiff}`);
  assert.ok(r.rmsTextLogitDiff > 0 && r.rmsTextLogitDiff <= r.maxTextLogitDiff, `rms ${r.rmsTextLogitDiff}`);
  assert.ok(r.rmsDepformerLogitDiff > 0 && r.rmsDepformerLogitDiff <= r.maxDepformerLogitDiff, `rms ${r.rmsDepformerLogitDiff}`);
  assert.equal(r.greedyMatched, r.greedyTotal);
});
