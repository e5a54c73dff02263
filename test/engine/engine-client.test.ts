import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EngineClient } from '../../src/engine/engine-client.js';
import { fixtureModelDir } from '../helpers/server-harness.js';

test('collectGarbage answers with the inference worker\'s heap in use, and null once the engine has stopped', async () => {
  const engine = await EngineClient.start({
    modelDir: fixtureModelDir(), provider: 'cpu', threads: 1, maxSessions: 1, tickMs: 20, maxQueuedFrames: 10, maxSessionSteps: 100,
  });
  const [a, b] = await Promise.all([engine.collectGarbage(), engine.collectGarbage()]);
  // A worker that has loaded a model holds at least its modules' heap; both requests are answered.
  assert.ok(a !== null && a > 1e6, `worker heap ${a}`);
  assert.ok(b !== null && b > 1e6, `worker heap ${b}`);
  await engine.stop();
  assert.equal(await engine.collectGarbage(), null);
});
