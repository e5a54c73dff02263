import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isWellFormedToken, MemoryResumeStore, newResumeToken, tokenKey } from '../../../src/transport/resume/resume-store.js';

test('a stored session is taken once, then gone', async () => {
  const s = new MemoryResumeStore();
  await s.put('k', Buffer.from('abc'), 10_000);
  assert.deepEqual(await s.take('k'), Buffer.from('abc'));
  assert.equal(await s.take('k'), null);
  await s.close();
});

test('entries expire after their time to live', async () => {
  const s = new MemoryResumeStore();
  await s.put('k', Buffer.from('abc'), 50);
  await new Promise((r) => setTimeout(r, 120));
  assert.equal(await s.take('k'), null);
  assert.equal(s.heldBytes, 0);
});

test('the store is bounded in bytes: the oldest waiting sessions go first', async () => {
  const s = new MemoryResumeStore(100, 10);
  await s.put('a', Buffer.alloc(4), 10_000);
  await s.put('b', Buffer.alloc(4), 10_000);
  await s.put('c', Buffer.alloc(4), 10_000);
  assert.equal(await s.take('a'), null);
  assert.ok(await s.take('b'));
  assert.ok(await s.take('c'));
  assert.equal(s.heldBytes, 0);
  await s.close();
});

test('tokens are 32 random bytes, keyed by their hash, and malformed ones are recognised', () => {
  const t = newResumeToken();
  assert.ok(isWellFormedToken(t));
  assert.notEqual(newResumeToken(), t);
  assert.ok(!isWellFormedToken('short'));
  assert.ok(!isWellFormedToken(`${t}x`));
  assert.ok(!tokenKey(t).includes(t));
});
