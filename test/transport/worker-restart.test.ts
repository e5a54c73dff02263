import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, fixtureModelDir, startTestServer, type TestClient, type TestServer } from '../helpers/server-harness.js';
import { metricValue, scrape } from '../helpers/metrics.js';
import { errorsOf, until } from '../helpers/sockets.js';
import { oggPages, speechOgg, type RawPage } from '../helpers/speech.js';

let srv: TestServer;
let pages: RawPage[];

before(async () => {
  pages = oggPages(speechOgg('The inference worker is about to be killed in the middle of this sentence.').bytes);
  srv = await startTestServer({ maxSessions: 3 });
});
after(async () => srv.close());

const audioCount = (c: TestClient) => c.messages.filter((m) => m.kind === 0x01).length;

async function talking(on: TestServer = srv): Promise<TestClient> {
  const c = await connect(on.url);
  await c.waitFor((m) => m.some((x) => x.kind === 0x00), 10_000);
  for (const p of pages.slice(0, 12)) c.send(0x01, p.bytes);
  await c.waitFor((m) => m.filter((x) => x.kind === 0x01).length >= 4, 10_000);
  return c;
}

test('killing the inference worker ends its sessions with an error and 1011; the server stays up and a new session works within 10 s', async () => {
  const victims = [await talking(), await talking()];
  const health: number[] = [];
  const t0 = Date.now();
  await srv.engine.killWorker();

  for (const c of victims) {
    const closed = await c.closed;
    assert.equal(closed.code, 1011, `closed with ${closed.code} ${closed.reason}`);
    assert.match(errorsOf(c).join(), /inference engine failed .*please reconnect/);
  }
  // Liveness holds throughout; readiness comes back once the new worker has loaded the model.
  await until(async () => {
    health.push((await fetch(`${srv.base}/healthz`)).status);
    return (await fetch(`${srv.base}/readyz`)).status === 200;
  }, 10_000, '/readyz to recover');
  const fresh = await talking();
  const recoveredMs = Date.now() - t0;
  console.log(`worker restart: new session answering ${recoveredMs} ms after the kill`);
  assert.ok(recoveredMs < 10_000, `recovered in ${recoveredMs} ms`);
  assert.ok(health.every((s) => s === 200), `/healthz statuses during the restart: ${health.join(',')}`);
  assert.deepEqual(errorsOf(fresh), []);
  const before = audioCount(fresh);
  for (const p of pages.slice(12, 20)) fresh.send(0x01, p.bytes);
  await fresh.waitFor(() => audioCount(fresh) > before, 10_000);
  fresh.ws.close();
  await fresh.closed;

  const m = await scrape(srv.base);
  assert.equal(metricValue(m, 'parley_worker_restarts_total'), 1);
  assert.equal(metricValue(m, 'parley_sessions_ended_total', { reason: 'engine_lost' }), 2);
  assert.equal(srv.engine.workerRestarts, 1);
  await until(() => srv.engine.freeSlots === 3, 5_000, 'all slots free');
});

test('a worker that fails to restart is retried with backoff until it comes back; meanwhile new sessions get 1013', async () => {
  // A model directory of its own, taken away while the worker restarts so that the restart fails.
  const dir = join(mkdtempSync(join(tmpdir(), 'parley-restart-')), 'model');
  cpSync(fixtureModelDir(), dir, { recursive: true });
  const own = await startTestServer({ modelDir: dir, maxSessions: 1 });
  try {
    renameSync(dir, `${dir}.away`);
    await own.engine.killWorker();
    await until(async () => metricValue(await scrape(own.base), 'parley_worker_restart_failures_total') >= 1, 10_000, 'a failed restart');
    assert.equal((await fetch(`${own.base}/readyz`)).status, 503, 'not ready without an engine');
    assert.equal((await fetch(`${own.base}/healthz`)).status, 200, 'but alive');
    // A session asked for meanwhile is refused at once, not left waiting.
    const early = await connect(own.url);
    const refused = await early.closed;
    assert.equal(refused.code, 1013, `closed with ${refused.code} ${refused.reason}`);
    assert.match(errorsOf(early).join(), /server busy/);
    renameSync(`${dir}.away`, dir);
    await until(async () => (await fetch(`${own.base}/readyz`)).status === 200, 15_000, '/readyz after the model came back');
    const c = await talking(own);
    c.ws.close();
    await c.closed;
  } finally {
    await own.close();
  }
});
