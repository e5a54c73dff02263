import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { SafetensorsFile } from '../../../../src/model/checkpoint/safetensors.js';
import { SafetensorsWeights } from '../../../../src/model/checkpoint/weights.js';
import { ConvertedWeights } from '../../../../src/model/lm/gpu/weights.js';
import { buildGpuLmGraphs } from '../../../../src/model/lm/gpu-lm-runner.js';
import type { GraphDef } from '../../../../src/model/onnx/graph-builder.js';
import { FIXTURE, fixtureLmConfig } from '../../../helpers/fixture.js';

const casts = (g: GraphDef) => g.nodes.filter((n) => n.opType === 'Cast').length;

function graphs(layers: number, depLayers: number) {
  const src = new SafetensorsWeights(SafetensorsFile.open(join(FIXTURE, 'model.safetensors')));
  return buildGpuLmGraphs(fixtureLmConfig({ num_layers: layers, depformer_num_layers: depLayers }), src, new ConvertedWeights('fp16'));
}

// Every node is a dispatch of host time on WebGPU: the float16 graphs keep
// the residual stream in float16, so a layer adds no cast.
test('a float16 layer adds no cast: the temporal and depformer graphs have as many casts with one layer as with two', () => {
  const one = graphs(1, 1);
  const two = graphs(2, 2);
  assert.ok(two.temporal.nodes.length > one.temporal.nodes.length, 'the second layer is in the graph');
  assert.equal(casts(two.temporal), casts(one.temporal));
  assert.equal(casts(two.depformerFrame), casts(one.depformerFrame));
  assert.equal(casts(two.depformer[1]!), casts(one.depformer[1]!));
});
