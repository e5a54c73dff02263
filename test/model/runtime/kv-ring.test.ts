import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KvRing } from '../../../src/model/runtime/kv-ring.js';

test('a KV pool is resident in memory once created, so serving does not grow the process as positions advance', () => {
  const before = process.memoryUsage().rss;
  // 8 layers x (keys + values) x 4 slots x 8 heads x 64 x 1024 float32 = 128 MiB.
  const ring = new KvRing(8, 4, 8, 64, 1024);
  const grown = process.memoryUsage().rss - before;
  assert.equal(ring.bytesPerSlot * ring.slots, 128 * 2 ** 20);
  // Untouched typed arrays are mapped but not resident; a pool faulted in up front is.
  assert.ok(grown >= 0.9 * ring.bytesPerSlot * ring.slots, `RSS grew ${(grown / 2 ** 20).toFixed(1)} MiB for a 128 MiB pool`);
});
