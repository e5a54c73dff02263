import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultCodecProvider } from '../../src/engine/codec.js';
import { EngineClient } from '../../src/engine/engine-client.js';
import type { EngineOptions } from '../../src/engine/worker/messages.js';
import { fixtureModelDir } from '../helpers/server-harness.js';

const options = (codecProvider?: EngineOptions['codecProvider']): EngineOptions => ({
  modelDir: fixtureModelDir(), provider: 'cpu', threads: 1, maxSessions: 1, tickMs: 20, maxQueuedFrames: 10, maxSessionSteps: 100,
  ...(codecProvider ? { codecProvider } : {}),
});

test('the codec runs on the LM provider by default and the engine reports where', async () => {
  const engine = await EngineClient.start(options());
  assert.equal(engine.info?.codecProvider, 'cpu');
  await engine.stop();
});

test('the codec is created on its own provider: one this machine lacks fails naming it', async () => {
  await assert.rejects(EngineClient.start(options('cuda')), /execution provider 'cuda' is not available/);
});

test('WebGPU serving keeps Mimi on the host cores unless told otherwise; other providers keep it with the LM', () => {
  assert.equal(defaultCodecProvider('webgpu'), 'cpu');
  assert.equal(defaultCodecProvider('cuda'), 'cuda');
  assert.equal(defaultCodecProvider('cpu'), 'cpu');
});
