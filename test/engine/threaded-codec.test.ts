import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ThreadedCodec } from '../../src/engine/threaded-codec.js';
import { loadModelDir } from '../../src/model/manifest.js';
import { MimiRunner } from '../../src/model/mimi/mimi-runner.js';
import { fixtureModelDir } from '../helpers/server-harness.js';

const ONE_THREAD = { provider: 'cpu' as const, intraOpThreads: 1 };
const SLOTS = 5;

function pcmFor(rows: number, step: number, F: number): Float32Array {
  return Float32Array.from({ length: rows * F }, (_, i) => 0.3 * Math.sin((step * 7 + Math.floor(i / F) * 3 + 1) * 0.001 * (i % F)));
}

for (const shards of [1, 2, 3]) {
  test(`Mimi split over ${shards} thread(s) per direction codes exactly what one runner in this thread codes, across slot moves between threads and resumes`, async () => {
    const model = loadModelDir(fixtureModelDir());
    const files = { encoder: model.path(model.manifest.files.mimiEncoder), decoder: model.path(model.manifest.files.mimiDecoder) };
    const local = await MimiRunner.create(files, model.mimi, SLOTS, ONE_THREAD);
    const threaded = await ThreadedCodec.create(files, model.mimi, SLOTS, ONE_THREAD, shards);
    try {
      const F = local.frameSize;
      const Q = local.numCodebooks;
      const both = async (rows: number, step: number, exec?: Uint8Array) => {
        const pcm = pcmFor(rows, step, F);
        const a = await local.encode(rows, pcm, exec);
        const b = await threaded.encode(rows, pcm, exec);
        assert.deepEqual(b, a, `codes at step ${step}`);
        const codes = BigInt64Array.from(a, (c) => BigInt(c));
        const x = await local.decode(rows, codes, exec);
        const y = await threaded.decode(rows, codes, exec);
        for (let r = 0; r < rows; r++) {
          if (exec && !exec[r]) continue;
          assert.deepEqual(y.subarray(r * F, (r + 1) * F), x.subarray(r * F, (r + 1) * F), `pcm of row ${r} at step ${step}`);
        }
        void Q;
      };
      for (let s = 0; s < 4; s++) await both(SLOTS, s);
      // Rows that skip a step keep their state in every thread.
      await both(SLOTS, 4, Uint8Array.of(1, 0, 1, 0, 1));
      // The last slot moves into the first (threads apart when split), as the scheduler compacts after a close.
      local.moveSlot(4, 0);
      threaded.moveSlot(4, 0);
      local.resetSlot(3);
      threaded.resetSlot(3);
      for (let s = 5; s < 8; s++) await both(4, s);
      // A slot's state leaves and comes back (a resume), into a slot of another thread.
      const state = await threaded.exportSlot(1);
      assert.deepEqual(state, local.exportSlot(1));
      local.importSlot(3, state);
      await threaded.importSlot(3, state);
      for (let s = 8; s < 10; s++) await both(4, s);
      assert.equal(threaded.bytesPerSlot, local.bytesPerSlot);
    } finally {
      await local.release();
      await threaded.release();
    }
  });
}

test('codec shards must be a positive integer', async () => {
  const model = loadModelDir(fixtureModelDir());
  const files = { encoder: model.path(model.manifest.files.mimiEncoder), decoder: model.path(model.manifest.files.mimiDecoder) };
  await assert.rejects(ThreadedCodec.create(files, model.mimi, 2, ONE_THREAD, 0), /codec shards must be a positive integer, got 0/);
});
