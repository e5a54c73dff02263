import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mimiParity } from '../../../src/model/mimi/parity.js';
import { FIXTURE_DIR, ONE_THREAD } from './fixture.js';

test('streaming encode of the fixture PCM reproduces every reference code and decode matches the reference PCM', async () => {
  const r = await mimiParity(FIXTURE_DIR, ONE_THREAD);
  assert.equal(r.codesTotal, 16 * 8);
  assert.deepEqual(r.mismatchedFrames, []);
  assert.equal(r.codesMatched, r.codesTotal);
  assert.ok(r.pcmRelL2 < 1e-3, `PCM relative L2 error ${r.pcmRelL2}`);
});
