import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { glibcArenaMax, glibcTunable, SERVING_GLIBC_TUNABLES } from '../../../src/model/runtime/glibc-tunables.js';
import { hugePageState } from '../../../src/model/runtime/huge-pages.js';

const REPO = process.cwd();

test('glibc tunables are read by name from a colon-separated GLIBC_TUNABLES', () => {
  const env = { GLIBC_TUNABLES: 'glibc.malloc.hugetlb=1:glibc.malloc.arena_max=2' };
  assert.equal(glibcTunable(env, 'glibc.malloc.hugetlb'), '1');
  assert.equal(glibcArenaMax(env), 2);
  assert.equal(glibcArenaMax({ GLIBC_TUNABLES: 'glibc.malloc.hugetlb=1' }), null);
  assert.equal(glibcArenaMax({ GLIBC_TUNABLES: 'glibc.malloc.arena_max=0' }), null);
  assert.equal(glibcArenaMax({ GLIBC_TUNABLES: 'xglibc.malloc.arena_max=4' }), null);
  assert.equal(glibcArenaMax({}), null);
});

test('the serving tunables ask for huge pages and two malloc arenas', () => {
  const env = { GLIBC_TUNABLES: SERVING_GLIBC_TUNABLES };
  assert.equal(glibcArenaMax(env), 2);
  assert.equal(hugePageState(env).glibcRequests, true);
});

test('the npm scripts that run the server or the bench and both images set the serving tunables', () => {
  const tunables = SERVING_GLIBC_TUNABLES.replace(/\./g, '\\.');
  const scripts = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
  for (const name of ['start', 'test', 'bench', 'load', 'parity']) {
    assert.match(scripts[name] ?? '', new RegExp(`GLIBC_TUNABLES=${tunables} node `), `npm ${name}`);
  }
  for (const file of ['Dockerfile', 'docker/Dockerfile.gpu']) {
    assert.match(readFileSync(join(REPO, file), 'utf8'), new RegExp(`^\\s+GLIBC_TUNABLES=${tunables}$`, 'm'), file);
  }
});
