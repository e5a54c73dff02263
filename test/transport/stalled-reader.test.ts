import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChatSession } from '../../src/transport/chat-session.js';
import { connect, startTestServer, type TestClient, type TestServer } from '../helpers/server-harness.js';
import { metricValue, scrape } from '../helpers/metrics.js';
import { percentile, replyLatencies, streamRealtime } from '../helpers/reply-latency.js';
import { errorsOf, rawSocket, until } from '../helpers/sockets.js';
import { oggPages, speechOgg, type RawPage } from '../helpers/speech.js';

const MAX_BUFFERED = 16 * 1024;
const MAX_DROPPED = 24 * 1024;
/** A reply audio message is one Ogg page of 40 ms (a few hundred bytes); the bound allows one over the limit. */
const ONE_MESSAGE = 2048;
/** The better stalled-neighbour p95 may exceed the better baseline p95 by half, or by 100 ms if that is more (a loaded 2-core machine). */
const LATENCY_MARGIN = { factor: 1.5, ms: 100 };

let srv: TestServer;
let speech: RawPage[];

before(async () => {
  speech = oggPages(speechOgg('This is the normal session. It talks while its neighbour stops reading, '
    + 'and its replies must come back as fast as without that neighbour.').bytes);
  srv = await startTestServer({
    maxSessions: 2,
    config: { connectionsPerMinute: 1_000_000, limits: { maxBufferedBytes: MAX_BUFFERED, maxDroppedAudioBytes: MAX_DROPPED } },
  });
});
after(async () => srv.close());

async function open(): Promise<{ c: TestClient; session: ChatSession }> {
  const c = await connect(srv.url);
  await c.waitFor((m) => m.some((x) => x.kind === 0x04), 10_000);
  const meta = JSON.parse(c.messages.find((m) => m.kind === 0x04)!.payload.toString('utf8')) as { session_id: string };
  const session = [...srv.server.sessions].find((s) => s.id === meta.session_id);
  assert.ok(session, 'the server-side session of this client');
  return { c, session };
}

/** Streams the speech over and over at real-time pace until told to stop. */
async function keepTalking(c: TestClient, stop: () => boolean): Promise<void> {
  for (let i = 0; i < 20 && !stop() && c.ws.readyState === c.ws.OPEN; i++) await streamRealtime(c, speech, stop);
}

/**
 * Stops reading and fills the kernel's socket buffers (megabytes on
 * loopback, minutes of reply audio) with pongs, so that what the server
 * sends next has to wait in its own memory.
 */
async function stallReading(c: TestClient, session: ChatSession): Promise<void> {
  rawSocket(c.ws).pause();
  const ping = Buffer.alloc(125);
  for (let i = 0; i < 4000 && session.outgoing.heldBytes === 0; i++) {
    for (let j = 0; j < 20; j++) c.ws.ping(ping);
    await new Promise((r) => setTimeout(r, 2));
  }
  assert.ok(session.outgoing.heldBytes > 0, 'the socket buffers filled');
}

interface Latency {
  p50: number;
  p95: number;
  n: number;
}

/**
 * The normal session's per-frame reply latency while `neighbour` talks too.
 * A stalled neighbour goes on talking until the server closes it.
 */
async function measure(neighbour: { c: TestClient; session: ChatSession }, stall: boolean): Promise<Latency> {
  const normal = await open();
  if (stall) await stallReading(neighbour.c, neighbour.session);
  let done = false;
  const talk = keepTalking(neighbour.c, () => (stall ? neighbour.session.hasEnded : done));
  const sentAt = await streamRealtime(normal.c, speech);
  await new Promise((r) => setTimeout(r, 1500));
  done = true;
  if (!stall) await talk;
  const lat = replyLatencies(normal.c, speech, sentAt);
  assert.deepEqual(errorsOf(normal.c), [], 'the normal session gets no error');
  normal.c.ws.close();
  await normal.c.closed;
  assert.ok(lat.length > 40, `latencies for ${lat.length} frames`);
  return { p50: percentile(lat, 50), p95: percentile(lat, 95), n: lat.length };
}

/**
 * One round with a stalled neighbour: the normal session's latency while the
 * neighbour stops reading and keeps talking, then the neighbour's fate.
 */
async function stalledRound(): Promise<Latency> {
  const stalled = await open();
  const latency = await measure(stalled, true);
  // Its reply audio was dropped oldest-first, then it was closed; never more than the bound was held for it.
  await until(() => stalled.session.hasEnded, 60_000, 'the stalled reader to be closed');
  const out = stalled.session.outgoing;
  console.log(`stalled reader: peak held ${out.peakHeldBytes} bytes (bound ${MAX_BUFFERED} + one message), dropped ${out.droppedBytes} bytes`);
  assert.ok(out.peakHeldBytes <= MAX_BUFFERED + ONE_MESSAGE, `peak held ${out.peakHeldBytes}`);
  assert.ok(out.droppedBytes > MAX_DROPPED, `dropped ${out.droppedBytes}`);
  // Once it reads again, it finds the reason and the close code behind its backlog.
  rawSocket(stalled.c.ws).resume();
  const closed = await stalled.c.closed;
  assert.equal(closed.code, 1008, `closed with ${closed.code} ${closed.reason}`);
  assert.match(errorsOf(stalled.c).join(), /client is not reading: too much audio dropped/);
  return latency;
}

async function readingRound(warmUp: boolean): Promise<Latency> {
  const reading = await open();
  if (warmUp) await measure(reading, false);
  const latency = await measure(reading, false);
  reading.c.ws.close();
  await reading.c.closed;
  return latency;
}

const show = (l: Latency) => `${l.p50.toFixed(0)}/${l.p95.toFixed(0)} ms (${l.n} frames)`;

test('a stalled reader is closed before the server holds more than the configured bound for it, and its neighbour\'s reply latency is unaffected', async () => {
  // Two rounds each, alternated; each condition is judged by its better round, so that one load spike
  // from elsewhere on the machine does not decide the comparison.
  const reading = [await readingRound(true)];
  const stalled = [await stalledRound()];
  reading.push(await readingRound(false));
  stalled.push(await stalledRound());
  console.log(`stalled reader: normal session reply latency p50/p95 beside a reading neighbour ${reading.map(show).join(', ')}; `
    + `beside a stalled one ${stalled.map(show).join(', ')}`);

  const m = await scrape(srv.base);
  assert.equal(metricValue(m, 'parley_sessions_ended_total', { reason: 'stalled_reader' }), 2, 'both ended as stalled readers');
  assert.ok(metricValue(m, 'parley_dropped_output_bytes_total') > 2 * MAX_DROPPED, 'dropped audio counted');
  const baseline = Math.min(...reading.map((l) => l.p95));
  const withStall = Math.min(...stalled.map((l) => l.p95));
  const allowed = Math.max(baseline * LATENCY_MARGIN.factor, baseline + LATENCY_MARGIN.ms);
  assert.ok(withStall <= allowed, `p95 ${withStall.toFixed(0)} ms beside a stalled reader vs ${baseline.toFixed(0)} ms (allowed ${allowed.toFixed(0)})`);
  await until(() => srv.server.sessions.size === 0, 10_000, 'sessions gone');
});

test('a client that sends pings but never reads is closed before the pongs pile up', async () => {
  const { c, session } = await open();
  rawSocket(c.ws).pause();
  const ping = Buffer.alloc(125);
  // Up to 16 MB of pings: several times what the kernel buffers absorb on loopback.
  for (let i = 0; i < 6400 && !session.hasEnded; i++) {
    for (let j = 0; j < 20; j++) c.ws.ping(ping);
    await new Promise((r) => setTimeout(r, 1));
  }
  assert.ok(session.hasEnded, 'closed within 16 MB of pings');
  const m = await scrape(srv.base);
  assert.equal(metricValue(m, 'parley_sessions_ended_total', { reason: 'stalled_reader' }), 3, 'ended as a stalled reader');
  console.log(`pong flood: peak held ${session.outgoing.peakHeldBytes} bytes, socket buffer ${session.outgoing.heldBytes} bytes at the end`);
  assert.ok(session.outgoing.heldBytes <= MAX_BUFFERED + ONE_MESSAGE, `held ${session.outgoing.heldBytes}`);
  rawSocket(c.ws).resume();
  const closed = await c.closed;
  assert.equal(closed.code, 1008);
  assert.match(errorsOf(c).join(), /client is not reading: pongs piling up/);
});
