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
