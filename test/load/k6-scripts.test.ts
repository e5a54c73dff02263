import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { register } from 'node:module';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { METRIC_DEFS } from '../../load/core/metrics.js';
import { DEFAULT_THRESHOLDS } from '../../load/core/scenario.js';
import { ensureSpeechClip } from '../../load/node/speech-clip.js';
import { startTestServer, type TestServer } from '../helpers/server-harness.js';
import exec from './k6-shim/execution.js';
import { created, samples } from './k6-shim/metrics.js';

const K6_DIR = join(process.cwd(), 'load', 'k6');
const entries = readdirSync(K6_DIR).filter((f) => f.endsWith('.js'));

let srv: TestServer;
before(async () => {
  srv = await startTestServer({ maxSessions: 2 });
});
after(async () => srv.close());

test('there is a k6 entry script per scenario, and each parses as an ES module', () => {
  assert.deepEqual(entries.sort(), ['churn.js', 'smoke.js', 'steady.js']);
  for (const f of entries) {
    const r = spawnSync(process.execPath, ['--check', join(K6_DIR, f)], { encoding: 'utf8' });
    assert.equal(r.status, 0, `${f}: ${r.stderr}`);
  }
});

interface EntryModule {
  options: { scenarios: Record<string, { executor: string; vus: number; duration: string; gracefulStop: string }>; thresholds: Record<string, string[]> };
  default: () => Promise<void>;
}

test('the smoke entry script, run under a k6 stand-in, declares its metrics and thresholds and measures real conversations', async () => {
  ensureSpeechClip();
  register('./k6-shim/hooks.js', import.meta.url);
  const g = globalThis as Record<string, unknown>;
  g['__ENV'] = { PARLEY_URL: srv.url, PARLEY_DURATION: '4' };
  // k6's open() resolves paths against the entry script's folder.
  g['open'] = (path: string) => {
    const b = readFileSync(resolve(K6_DIR, path));
    return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
  };
  const mod = (await import(pathToFileURL(join(K6_DIR, 'smoke.js')).href)) as EntryModule;

  const { gracefulStop, ...executor } = mod.options.scenarios['smoke']!;
  assert.deepEqual(executor, { executor: 'constant-vus', vus: 2, duration: '4s' });
  assert.match(gracefulStop, /^\d+s$/);
  assert.deepEqual(mod.options.thresholds, DEFAULT_THRESHOLDS);
  for (const d of METRIC_DEFS) assert.equal(created.get(d.name), d.kind, `metric ${d.name} created in the init stage`);
  for (const key of Object.keys(mod.options.thresholds)) assert.ok(created.has(key), `threshold on declared metric ${key}`);

  exec.scenario.startTime = Date.now();
  const runs: Promise<void>[] = [];
  for (const vu of [1, 2]) {
    g['__VU'] = vu;
    g['__ITER'] = 0;
    runs.push(mod.default());
  }
  await Promise.all(runs);

  const sum = (name: string) => samples.filter((s) => s.name === name).reduce((a, s) => a + s.value, 0);
  assert.deepEqual(samples.filter((s) => s.name === 'parley_handshake_ok').map((s) => s.value), [1, 1]);
  assert.ok(sum('parley_frames_received') > 0);
  assert.equal(sum('parley_errors'), 0);
  assert.equal(sum('parley_unexpected_closes'), 0);
  assert.ok(samples.some((s) => s.name === 'parley_reply_latency_ms'));
});
