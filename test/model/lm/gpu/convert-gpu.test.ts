import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkpointSource, convertModel } from '../../../../src/model/convert.js';
import { GpuLmRunner } from '../../../../src/model/lm/gpu-lm-runner.js';
import { loadModelDir } from '../../../../src/model/manifest.js';
import { createSession, providerAvailable } from '../../../../src/model/onnx/session.js';
import { FIXTURE } from '../../../helpers/fixture.js';

test('convert --precision writes device-cache graphs that GpuLmRunner loads', async () => {
  const out = mkdtempSync(join(tmpdir(), 'parley-gpu-convert-'));
  try {
    convertModel(checkpointSource(FIXTURE), out, () => {}, { gpuPrecision: 'int4' });
    const model = loadModelDir(out);
    const gpu = model.manifest.files.gpu;
    assert.ok(gpu);
    assert.equal(gpu.precision, 'int4');
    assert.equal(gpu.depformer.length, model.lm.dep_q);
    const runner = await GpuLmRunner.create(model.lm, {
      temporal: model.path(gpu.temporal), depformer: gpu.depformer.map((f) => model.path(f)), precision: gpu.precision,
    }, 2, { provider: 'cpu', intraOpThreads: 1 });
    const r = await runner.temporalStep(2, 1, new BigInt64Array(2 * runner.dims.streams));
    assert.equal(r.textLogits.length, 2 * runner.dims.textCard);
    assert.ok(r.textLogits.every(Number.isFinite));
    await runner.release();
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('a provider that is not installed fails with a clear error', async () => {
  if (providerAvailable('cuda')) return; // a machine with the CUDA binaries installed
  await assert.rejects(createSession(new Uint8Array(0), { provider: 'cuda', intraOpThreads: 1 }), /execution provider 'cuda' is not available on this machine.*ONNXRUNTIME_NODE_INSTALL=cuda12/);
});
