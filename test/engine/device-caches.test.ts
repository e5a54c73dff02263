import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EngineClient } from '../../src/engine/engine-client.js';
import type { EngineOptions } from '../../src/engine/worker/messages.js';
import { DEFAULT_SAMPLING_PARAMS } from '../../src/engine/sampling/sampling-params.js';
import { checkpointSource, convertModel } from '../../src/model/convert.js';
import { loadModelDir } from '../../src/model/manifest.js';
import { FIXTURE } from '../helpers/fixture.js';
import { serveFrames } from '../helpers/engine-frames.js';
import { fixtureModelDir } from '../helpers/server-harness.js';
import { WEBGPU_SKIP } from '../helpers/webgpu.js';

// The engine with the LM's caches kept as device-style graph outputs
// (GpuLmRunner; host tensors on the CPU provider) must serve what the
// host-cache engine serves.

const FRAMES = 16;
const frame = (i: number) => Float32Array.from({ length: 1920 }, (_, j) => 0.2 * Math.sin((i * 1920 + j) * 0.02) + 0.05 * Math.sin(j * 0.7));
const greedy = { ...DEFAULT_SAMPLING_PARAMS, textTemperature: 0, audioTemperature: 0, textSeed: 5n, audioSeed: 6n };

function engineOptions(modelDir: string, lmCaches: EngineOptions['lmCaches']): EngineOptions {
  return { modelDir, provider: 'cpu', threads: 1, maxSessions: 2, tickMs: 20, maxQueuedFrames: 100, maxSessionSteps: 100, lmCaches };
}

test('an engine with device-resident LM caches serves the same tokens as one with host caches', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-device-caches-'));
  convertModel(checkpointSource(FIXTURE), dir, () => {}, { gpuPrecision: 'fp32' });

  const host = await EngineClient.start(engineOptions(dir, 'host'));
  assert.equal(host.info?.lmCaches, 'host');
  const inputs = Array.from({ length: FRAMES }, (_, i) => frame(i));
  const expected = await serveFrames(host, 's', greedy, inputs);
  await host.stop();

  const device = await EngineClient.start(engineOptions(dir, 'device'));
  assert.equal(device.info?.lmCaches, 'device');
  const got = await serveFrames(device, 's', greedy, inputs);
  await device.stop();

  assert.ok(expected.some((t) => t.length > 0), 'the host engine produced tokens');
  assert.deepEqual(got, expected);

  // Converted for device caches only: no float32 host graphs written, same tokens served.
  const only = mkdtempSync(join(tmpdir(), 'parley-device-only-'));
  convertModel(checkpointSource(FIXTURE), only, () => {}, { gpuPrecision: 'fp32', deviceOnly: true });
  const files = loadModelDir(only).manifest.files;
  assert.equal(files.temporal, undefined);
  assert.equal(existsSync(join(only, 'temporal.onnx')), false);
  assert.ok(files.gpu);
  const deviceOnly = await EngineClient.start(engineOptions(only, 'device'));
  assert.deepEqual(await serveFrames(deviceOnly, 's', greedy, inputs), expected);
  await deviceOnly.stop();
  // Host caches need the graphs it does not have.
  await assert.rejects(EngineClient.start(engineOptions(only, 'auto')), /converted for device caches only.*GPU provider/);
});

test('on WebGPU (device caches, Mimi overlapped on the host cores by default) the engine serves the tokens the CPU engine serves', { skip: WEBGPU_SKIP }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-webgpu-engine-'));
  convertModel(checkpointSource(FIXTURE), dir, () => {}, { gpuPrecision: 'fp32', deviceOnly: true });
  const inputs = Array.from({ length: FRAMES }, (_, i) => frame(i));
  const cpu = await EngineClient.start(engineOptions(dir, 'device'));
  const expected = await serveFrames(cpu, 's', greedy, inputs);
  await cpu.stop();
  assert.ok(expected.some((t) => t.length > 0), 'the CPU engine produced tokens');

  const gpu = await EngineClient.start({ ...engineOptions(dir, 'auto'), provider: 'webgpu' });
  assert.equal(gpu.info?.lmCaches, 'device');
  assert.equal(gpu.info?.codecOverlap, 'full');
  assert.deepEqual(await serveFrames(gpu, 's', greedy, inputs), expected);
  await gpu.stop();
});

test('a device-only conversion needs a device precision', () => {
  assert.throws(() => convertModel(checkpointSource(FIXTURE), mkdtempSync(join(tmpdir(), 'parley-device-only-')), () => {}, { deviceOnly: true }), /device-only conversion needs a precision/);
});

test('asking for device caches on a model converted without device graphs fails with a clear error', async () => {
  await assert.rejects(EngineClient.start(engineOptions(fixtureModelDir(), 'device')), /no device-cache graphs.*--precision/);
});

test('auto keeps the caches in host memory on the CPU provider', async () => {
  const engine = await EngineClient.start(engineOptions(fixtureModelDir(), 'auto'));
  assert.equal(engine.info?.lmCaches, 'host');
  await engine.stop();
});
