import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../src/config/load.js';

const emptyDir = () => mkdtempSync(join(tmpdir(), 'parley-config-'));

test('the codec runs on the main provider unless codecProvider says otherwise', () => {
  assert.equal(loadConfig([], {}, emptyDir()).codecProvider, undefined);
  assert.equal(loadConfig(['--provider', 'webgpu', '--codec-provider', 'cpu'], {}, emptyDir()).codecProvider, 'cpu');
  assert.equal(loadConfig([], { PARLEY_CODEC_PROVIDER: 'cpu' }, emptyDir()).codecProvider, 'cpu');
});

test('an unknown codec provider names the setting and where it came from', () => {
  assert.throws(() => loadConfig([], { PARLEY_CODEC_PROVIDER: 'tpu' }, emptyDir()),
    (e: unknown) => e instanceof ConfigError && /codecProvider/.test(e.message) && /PARLEY_CODEC_PROVIDER/.test(e.message));
});

test('codecOverlap comes from the environment or a flag and refuses a value it does not know', () => {
  assert.equal(loadConfig([], {}, emptyDir()).codecOverlap, 'auto');
  assert.equal(loadConfig(['--codec-overlap', 'decode'], {}, emptyDir()).codecOverlap, 'decode');
  assert.equal(loadConfig([], { PARLEY_CODEC_OVERLAP: 'full' }, emptyDir()).codecOverlap, 'full');
  assert.throws(() => loadConfig([], { PARLEY_CODEC_OVERLAP: 'on' }, emptyDir()),
    (e: unknown) => e instanceof ConfigError && /codecOverlap/.test(e.message) && /PARLEY_CODEC_OVERLAP/.test(e.message));
});

test('codecShards is a positive count from a flag or the environment', () => {
  assert.equal(loadConfig([], {}, emptyDir()).codecShards, 1);
  assert.equal(loadConfig(['--codec-shards', '2'], {}, emptyDir()).codecShards, 2);
  assert.throws(() => loadConfig([], { PARLEY_CODEC_SHARDS: '0' }, emptyDir()),
    (e: unknown) => e instanceof ConfigError && /codecShards/.test(e.message) && /PARLEY_CODEC_SHARDS/.test(e.message));
});
