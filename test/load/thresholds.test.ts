import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MetricRecorder, percentile } from '../../load/node/recorder.js';
import { evaluateThresholds } from '../../load/node/thresholds.js';

function recorder(): MetricRecorder {
  const r = new MetricRecorder();
  for (let v = 1; v <= 100; v++) r.add('parley_reply_latency_ms', v);
  r.add('parley_errors', 0);
  r.add('parley_errors', 2);
  r.add('parley_handshake_ok', 1);
  r.add('parley_handshake_ok', 1);
  r.add('parley_handshake_ok', 0);
  r.add('parley_closes', 1, { code: '1000', by: 'client' });
  r.add('parley_closes', 1, { code: '1011', by: 'server' });
  return r;
}

const verdicts = (thresholds: Record<string, string[]>, r = recorder()) =>
  evaluateThresholds(r, thresholds, 10).map((t) => [t.expression, t.ok, t.value] as const);

test('percentiles interpolate between closest ranks, as k6 computes them', () => {
  assert.equal(percentile([1, 2, 3, 4], 50), 2.5);
  assert.ok(Math.abs(percentile(Array.from({ length: 100 }, (_, i) => i + 1), 95) - 95.05) < 1e-9);
});

test('trend, counter and rate thresholds pass and fail on their aggregates', () => {
  assert.deepEqual(verdicts({
    parley_reply_latency_ms: ['p(95)<96', 'p(95)<95', 'med==50.5', 'max<=100', 'avg>60'],
    parley_errors: ['count==2', 'count==0', 'rate<0.3'],
    parley_handshake_ok: ['rate==1', 'rate>0.6'],
  }).map(([e, ok]) => `${e}:${ok}`), [
    'p(95)<96:true', 'p(95)<95:false', 'med==50.5:true', 'max<=100:true', 'avg>60:false',
    'count==2:true', 'count==0:false', 'rate<0.3:true',
    'rate==1:false', 'rate>0.6:true',
  ]);
});

test('a tag filter in the metric key selects submetrics', () => {
  assert.deepEqual(verdicts({ 'parley_closes{code:1011}': ['count==0'], 'parley_closes{by:client}': ['count==1'] }).map(([, ok]) => ok), [false, true]);
});

test('unknown metrics, unparseable expressions, aggregates that do not apply, and trends without samples fail', () => {
  const r = evaluateThresholds(recorder(), {
    parley_nope: ['count==0'],
    parley_errors: ['p(95)<1', 'count=0'],
    parley_handshake_ms: ['p(95)<1000'],
  }, 10);
  assert.deepEqual(r.map((t) => t.ok), [false, false, false, false]);
  assert.ok(r.every((t) => t.problem), JSON.stringify(r));
});
