import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EngineClient } from '../../src/engine/engine-client.js';
import { ModelPipeline } from '../../src/engine/model-pipeline.js';
import { DEFAULT_SAMPLING_PARAMS } from '../../src/engine/sampling/sampling-params.js';
import { SessionSampler } from '../../src/engine/session-sampler.js';
import { createLmStepper } from '../../src/model/lm/lm-stepper.js';
import { loadModelDir } from '../../src/model/manifest.js';
import { MimiRunner } from '../../src/model/mimi/mimi-runner.js';
import { serveFrames } from '../helpers/engine-frames.js';
import { fixtureModelDir } from '../helpers/server-harness.js';

const FRAMES = 20;
const frame = (i: number) => Float32Array.from({ length: 1920 }, (_, j) => 0.2 * Math.sin((i * 1920 + j) * 0.02) + 0.05 * Math.sin(j * 0.7));
const sampling = { ...DEFAULT_SAMPLING_PARAMS, textSeed: 77n, audioSeed: 78n };

test('the serving engine (worker, scheduler) produces exactly the tokens the runtime produces directly', async () => {
  const dir = fixtureModelDir();
  const model = loadModelDir(dir);
  const opts = { provider: 'cpu' as const, intraOpThreads: 1 };
  const { stepper: lm } = await createLmStepper(model, 1, opts, 'host');
  const codec = await MimiRunner.create({ encoder: model.path(model.manifest.files.mimiEncoder), decoder: model.path(model.manifest.files.mimiDecoder) }, model.mimi, 1, opts);
  const pipe = new ModelPipeline(lm, codec, 1);
  pipe.resetSlot(0);
  const sampler = new SessionSampler(sampling, lm.dims, model.lm);
  const direct: number[][] = [];
  for (let i = 0; i < FRAMES; i++) {
    const r = await pipe.step([{ exec: true, first: i === 0, pcm: frame(i), sampler }]);
    direct.push(r.rows[0]!.tokens ? [...r.rows[0]!.tokens] : []);
  }

  const engine = await EngineClient.start({ modelDir: dir, provider: 'cpu', threads: 1, maxSessions: 2, tickMs: 20, maxQueuedFrames: 100, maxSessionSteps: 100 });
  const served = await serveFrames(engine, 's', sampling, Array.from({ length: FRAMES }, (_, i) => frame(i)));
  await engine.stop();
  await lm.release();
  await codec.release();
  assert.ok(direct.some((t) => t.length > 0));
  for (let i = 0; i < FRAMES; i++) assert.deepEqual(served[i], direct[i], `frame ${i}`);
});
