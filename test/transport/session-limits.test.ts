import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, startTestServer, type TestClient, type TestServer } from '../helpers/server-harness.js';
import { metricValue, scrape } from '../helpers/metrics.js';
import { frameCompletingPages } from '../helpers/reply-latency.js';
import { errorsOf } from '../helpers/sockets.js';
import { oggPages, speechOgg, type RawPage } from '../helpers/speech.js';

const IDLE_MS = 600;
const MAX_STEPS = 12;

let srv: TestServer;
let speech: RawPage[];

before(async () => {
  speech = oggPages(speechOgg('Two seconds of speech, enough for a few model steps.').bytes);
  srv = await startTestServer({ maxSessions: 2, config: { limits: { idleTimeoutMs: IDLE_MS, maxSessionSteps: MAX_STEPS } } });
});
after(async () => srv.close());

async function opened(): Promise<TestClient> {
  const c = await connect(srv.url);
  await c.waitFor((m) => m.some((x) => x.kind === 0x00), 10_000);
  return c;
}

const audioMessages = (c: TestClient) => c.messages.filter((m) => m.kind === 0x01).length;

/** Sends the pages that carry input frames [from, to). */
function sendFrames(c: TestClient, from: number, to: number): void {
  const completing = frameCompletingPages(speech);
  const first = from === 0 ? 0 : completing[from - 1]! + 1;
  for (const p of speech.slice(first, completing[to - 1]! + 1)) c.send(0x01, p.bytes);
}

test('a client that sends no audio for idleTimeoutMs is closed with an error and 1008', async () => {
  const silent = await opened();
  const pinging = await opened();
  const t0 = Date.now();
  const pings = setInterval(() => pinging.send(0x06), 100);
  const [a, b] = await Promise.all([silent.closed, pinging.closed]);
  clearInterval(pings);
  const ms = Date.now() - t0;
  for (const [c, closed] of [[silent, a], [pinging, b]] as const) {
    assert.equal(closed.code, 1008);
    assert.match(errorsOf(c).join(), new RegExp(`no audio for ${IDLE_MS} ms`));
  }
  assert.ok(ms >= IDLE_MS - 50 && ms < IDLE_MS + 5000, `closed after ${ms} ms`);
  assert.equal(metricValue(await scrape(srv.base), 'parley_sessions_ended_total', { reason: 'idle' }), 2);
});

test('maxSessionSteps ends a session with a message after exactly that many steps', async () => {
  const c = await opened();
  sendFrames(c, 0, MAX_STEPS + 4);
  const closed = await c.closed;
  assert.equal(closed.code, 1000);
  assert.match(errorsOf(c).join(), new RegExp(`limit of ${MAX_STEPS} steps`));
  // OpusHead, OpusTags, then two pages per step after the first (which has no audio yet).
  assert.equal(audioMessages(c), 2 + 2 * (MAX_STEPS - 1));
});

test('a restart does not reset the session\'s step limit', async () => {
  const c = await opened();
  sendFrames(c, 0, 8);
  await c.waitFor(() => audioMessages(c) >= 2 + 2 * 7, 10_000);
  c.send(0x03, Uint8Array.of(0x03));
  await new Promise((r) => setTimeout(r, 300));
  // Fewer frames than the limit after the restart: only the total can reach it.
  sendFrames(c, 8, 8 + MAX_STEPS - 2);
  const closed = await c.closed;
  assert.equal(closed.code, 1000, `closed with ${closed.code} ${closed.reason}`);
  assert.match(errorsOf(c).join(), new RegExp(`limit of ${MAX_STEPS} steps`));
  assert.equal(metricValue(await scrape(srv.base), 'parley_sessions_ended_total', { reason: 'max_steps' }), 2);
});

test('frames beyond maxQueuedFrames are dropped oldest-first and counted', async () => {
  const before = metricValue(await scrape(srv.base), 'parley_dropped_frames_total');
  const c = await opened();
  // Five seconds of speech at once: far more than the 25 frames (2 s) a session may queue.
  for (const p of speech) c.send(0x01, p.bytes);
  await c.closed;
  const dropped = metricValue(await scrape(srv.base), 'parley_dropped_frames_total') - before;
  assert.ok(dropped >= 1, `dropped ${dropped} frames`);
});

test('restarts closer together than a second are refused with an error and counted', async () => {
  const c = await opened();
  c.send(0x03, Uint8Array.of(0x03));
  c.send(0x03, Uint8Array.of(0x03));
  await c.waitFor((m) => m.some((x) => x.kind === 0x05), 5_000);
  assert.match(errorsOf(c).join(), /restart refused: at most one per 1000 ms/);
  assert.equal(c.ws.readyState, c.ws.OPEN, 'the session goes on');
  c.ws.close();
  await c.closed;
  assert.equal(metricValue(await scrape(srv.base), 'parley_client_errors_total', { kind: 'restart_rate' }), 1);
});

test('a bad query parameter is refused with 1008 and counted', async () => {
  const c = await connect(`${srv.url}?text_topk=-1`);
  assert.equal((await c.closed).code, 1008);
  assert.match(errorsOf(c).join(), /text_topk/);
  assert.equal(metricValue(await scrape(srv.base), 'parley_refusals_total', { reason: 'bad_query' }), 1);
});
