import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hugePageState } from '../../../src/model/runtime/huge-pages.js';

function modeFile(content: string): string {
  const f = join(mkdtempSync(join(tmpdir(), 'thp-')), 'enabled');
  writeFileSync(f, content);
  return f;
}

test('huge pages are active in madvise mode only when glibc is asked for them', () => {
  const madvise = modeFile('always [madvise] never\n');
  assert.deepEqual(hugePageState({}, madvise), { kernelMode: 'madvise', glibcRequests: false, active: false });
  assert.equal(hugePageState({ GLIBC_TUNABLES: 'glibc.malloc.hugetlb=1' }, madvise).active, true);
  assert.equal(hugePageState({ GLIBC_TUNABLES: 'glibc.malloc.arena_max=2:glibc.malloc.hugetlb=1' }, madvise).active, true);
  assert.equal(hugePageState({ GLIBC_TUNABLES: 'glibc.malloc.hugetlb=0' }, madvise).active, false);
});

test('huge pages follow the kernel when its mode is always or never, and are unknown off Linux', () => {
  assert.equal(hugePageState({}, modeFile('[always] madvise never\n')).active, true);
  assert.equal(hugePageState({ GLIBC_TUNABLES: 'glibc.malloc.hugetlb=1' }, modeFile('always madvise [never]\n')).active, false);
  assert.deepEqual(hugePageState({}, '/nonexistent/thp'), { kernelMode: null, glibcRequests: false, active: false });
});
