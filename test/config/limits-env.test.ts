import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../src/config/load.js';

const emptyDir = () => mkdtempSync(join(tmpdir(), 'parley-config-'));

test('every limit has a default and can be set from its own environment variable', () => {
  const defaults = loadConfig([], {}, emptyDir()).limits;
  assert.deepEqual(defaults, {
    maxMessageBytes: 1 << 20, maxQueuedFrames: 25, maxSessionSteps: 4500, idleTimeoutMs: 30_000,
    maxBufferedBytes: 512 * 1024, maxDroppedAudioBytes: 2 * 1024 * 1024, maxInputSpeed: 10,
  });
  const env = {
    PARLEY_MAX_MESSAGE_BYTES: '65536', PARLEY_MAX_QUEUED_FRAMES: '10', PARLEY_MAX_SESSION_STEPS: '100', PARLEY_IDLE_TIMEOUT_MS: '5000',
    PARLEY_MAX_BUFFERED_BYTES: '1000', PARLEY_MAX_DROPPED_AUDIO_BYTES: '2000', PARLEY_MAX_INPUT_SPEED: '3',
  };
  assert.deepEqual(loadConfig([], env, emptyDir()).limits, {
    maxMessageBytes: 65536, maxQueuedFrames: 10, maxSessionSteps: 100, idleTimeoutMs: 5000, maxBufferedBytes: 1000, maxDroppedAudioBytes: 2000, maxInputSpeed: 3,
  });
});

test('a limit from the environment overrides the config file and keeps its other limits', () => {
  const dir = emptyDir();
  writeFileSync(join(dir, 'parley.json'), JSON.stringify({ limits: { idleTimeoutMs: 1000, maxSessionSteps: 50 } }));
  const limits = loadConfig(['--config', join(dir, 'parley.json')], { PARLEY_IDLE_TIMEOUT_MS: '2000' }, dir).limits;
  assert.equal(limits.idleTimeoutMs, 2000);
  assert.equal(limits.maxSessionSteps, 50);
});

test('a bad limit names the setting and the variable it came from', () => {
  assert.throws(() => loadConfig([], { PARLEY_IDLE_TIMEOUT_MS: '-5' }, emptyDir()),
    (e: unknown) => e instanceof ConfigError && /limits\.idleTimeoutMs/.test(e.message) && /PARLEY_IDLE_TIMEOUT_MS/.test(e.message));
});
