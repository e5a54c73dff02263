import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_THRESHOLDS } from '../../load/core/scenario.js';
import { runLoad, type LoadRunResult } from '../../load/node/runner.js';
import { reportJson } from '../../load/node/summary.js';
import { evaluateThresholds } from '../../load/node/thresholds.js';
import { startTestServer, type TestServer } from '../helpers/server-harness.js';

let srv: TestServer;
let run: LoadRunResult;
const logs: string[] = [];

before(async () => {
  srv = await startTestServer({ maxSessions: 2 });
  run = await runLoad({ scenario: 'smoke', url: srv.url, durationS: 8, log: (l) => logs.push(l) });
});
after(async () => srv.close());

test('smoke against the real server: every VU gets its handshake, replies and text arrive, no errors, clean closes', () => {
  const s = run.summary;
  assert.equal(s.sessions, 2, 'one conversation per VU');
  assert.equal(s.handshakes, 2);
  assert.ok(s.framesSent > 150, `sent ${s.framesSent}`);
  assert.ok(s.framesReceived > 0);
  assert.equal(s.framesMissing, 0);
  assert.equal(s.framesReceived, s.framesSent - 2, 'one frame of delay per conversation');
  assert.equal(run.recorder.values('parley_reply_latency_ms').length, s.framesReceived);
  assert.ok(s.textMessages > 0);
  assert.equal(s.errors, 0, logs.join('\n'));
  assert.equal(s.unexpectedCloses, 0);
  assert.deepEqual(s.closes, { '1000/client': 2 });
  assert.ok(run.wallS >= 8 && run.wallS < 8 + 10, `wall ${run.wallS}`);
});

test('every scenario threshold is evaluated to a value, and the verdict is their conjunction', () => {
  assert.deepEqual(run.thresholds.map((t) => t.metric), Object.keys(DEFAULT_THRESHOLDS));
  for (const t of run.thresholds) assert.equal(typeof t.value, 'number', `${t.metric}: ${t.problem}`);
  assert.equal(run.passed, run.thresholds.every((t) => t.ok));
});

test('thresholds that must fail on this run fail, and ones that must hold hold', () => {
  const r = evaluateThresholds(run.recorder, {
    parley_reply_latency_ms: ['p(95)<0.001', 'p(95)>0'],
    parley_frames_received: ['count==0', 'count>0'],
    parley_handshake_ok: ['rate<1', 'rate==1'],
  }, 8);
  assert.deepEqual(r.map((t) => t.ok), [false, true, false, true, false, true]);
});

test('the JSON report carries the flat keys the benchmark records', () => {
  const j = reportJson(run);
  for (const k of ['loadReplyLatencyP95Ms', 'loadReplyLatencyP50Ms', 'loadHandshakeP95Ms', 'loadFramesReceived', 'loadErrors']) {
    assert.equal(typeof j[k], 'number', k);
  }
  assert.equal(j['loadReplyLatencyP95Ms'], run.summary.replyLatencyP95Ms);
});

test('the CLI runs a scenario, prints the table, writes --out, and exits 0 or 1 by the thresholds', async () => {
  const out = join(mkdtempSync(join(tmpdir(), 'parley-load-')), 'results.json');
  const { code, stdout } = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
    execFile(process.execPath, ['dist/load/node/run.js', 'smoke', '--url', srv.url, '--vus', '1', '--duration', '3', '--out', out],
      { timeout: 20_000 }, (err, stdout) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout }));
  });
  const j = JSON.parse(readFileSync(out, 'utf8')) as { passed: boolean; vus: number; summary: { handshakes: number } };
  assert.equal(j.vus, 1);
  assert.equal(j.summary.handshakes, 1);
  assert.equal(code, j.passed ? 0 : 1);
  assert.match(stdout, /reply latency p50 \/ p95 \/ p99/);
  assert.match(stdout, /parley_reply_latency_ms: p\(95\)<200/);
});

test('the CLI refuses an unknown scenario with usage and exit code 2', async () => {
  const code = await new Promise<number | null>((resolve) => {
    execFile(process.execPath, ['dist/load/node/run.js', 'nope'], { timeout: 10_000 }, (err) => resolve(err ? (typeof err.code === 'number' ? err.code : null) : 0));
  });
  assert.equal(code, 2);
});
