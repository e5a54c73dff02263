import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, startTestServer, type TestClient, type TestServer } from '../helpers/server-harness.js';
import { metricSum, metricValue, scrape } from '../helpers/metrics.js';
import { mib, settledResources, type ResourceSnapshot } from '../helpers/process-resources.js';
import { closeAbruptly, errorsOf, rawSocket, until } from '../helpers/sockets.js';
import { oggPages, speechOgg, type RawPage } from '../helpers/speech.js';

const MAX_SESSIONS = 4;
const EXTRAS = 50;
const CYCLES = 1000;
/** Heap growth allowed over the whole run, after full GCs: 1,000 leaked sessions of even 8 KiB each would exceed it. */
const HEAP_BOUND = 8 * 2 ** 20;
/** Handles (sockets, timers) allowed over the baseline: fetch's keep-alive pool may hold one more or one fewer socket. */
const HANDLE_BOUND = 2;
const RESUME_GRACE_MS = 2000;

let srv: TestServer;
let pages: RawPage[];

before(async () => {
  pages = oggPages(speechOgg('Churn test speech, a few pages of it.').bytes);
  // The per-IP connection rate limit would refuse most of 1,000 connections from 127.0.0.1 within a minute.
  // Dropped sessions are kept for resuming during the grace period: a short one, so that the end state can be measured.
  srv = await startTestServer({ maxSessions: MAX_SESSIONS, config: { connectionsPerMinute: 1_000_000, resume: { gracePeriodMs: RESUME_GRACE_MS } } });
});
after(async () => srv.close());

const handshaken = (c: TestClient) => c.waitFor((m) => m.some((x) => x.kind === 0x00), 10_000);

/** Connects `n` sessions that must all get a slot. */
async function openFull(n: number): Promise<TestClient[]> {
  const cs = await Promise.all(Array.from({ length: n }, () => connect(srv.url)));
  await Promise.all(cs.map(handshaken));
  return cs;
}

/** A connection that must be refused with 1013 "server busy". */
async function expectBusy(c: TestClient): Promise<void> {
  const closed = await c.closed;
  assert.equal(closed.code, 1013, `refused with 1013, got ${closed.code} ${closed.reason}`);
  assert.match(errorsOf(c).join(), /server busy/);
}

/** Sends the stream headers and a few audio pages, optionally waiting for reply audio. */
async function talk(c: TestClient, waitForReply: boolean): Promise<void> {
  for (const p of pages.slice(0, 10)) c.send(0x01, p.bytes);
  if (waitForReply) await c.waitFor((m) => m.filter((x) => x.kind === 0x01).length >= 4, 10_000);
}

type Ending = 'close' | 'terminate' | 'reset' | 'reset-mid-frame';

/** Ends a client connection; all but `close` send no close frame. */
async function end(c: TestClient, how: Ending): Promise<void> {
  switch (how) {
    case 'close':
      c.ws.close();
      break;
    case 'terminate':
    case 'reset':
      closeAbruptly(c, how);
      break;
    case 'reset-mid-frame': {
      // A masked binary frame header announcing 60,000 bytes, 10 of them sent, then RST.
      const s = rawSocket(c.ws);
      s.write(Buffer.from([0x82, 0xfe, 0xea, 0x60, 1, 2, 3, 4, ...Array<number>(10).fill(7)]));
      s.resetAndDestroy();
      break;
    }
  }
  await c.closed;
}

const ENDINGS: Ending[] = ['close', 'terminate', 'reset', 'reset-mid-frame'];

async function slotsFree(): Promise<void> {
  await until(() => srv.engine.freeSlots === MAX_SESSIONS && srv.server.sessions.size === 0, 10_000, 'every slot to be free');
}

test(`${CYCLES} connect/disconnect cycles with ${EXTRAS} refused extras and abrupt closes leave every slot free and no leak`, async () => {
  let cycles = 0;
  let accepted = 0;
  let refused = 0;
  let early = 0;

  // Warm-up (JIT, WASM codecs, fetch's connection pool) before the baseline.
  for (let i = 0; i < 3; i++) {
    const cs = await openFull(MAX_SESSIONS);
    await talk(cs[0]!, true);
    await Promise.all(cs.map((c, j) => end(c, ENDINGS[j]!)));
    cycles += cs.length;
    accepted += cs.length;
    await slotsFree();
  }
  await new Promise((r) => setTimeout(r, RESUME_GRACE_MS + 500));
  await scrape(srv.base);
  await fetch(`${srv.base}/readyz`);
  const before: ResourceSnapshot = await settledResources();

  // maxSessions sessions, then 50 more at once: the extras are refused and the others go on undisturbed.
  const full = await openFull(MAX_SESSIONS);
  accepted += full.length;
  const extras = await Promise.all(Array.from({ length: EXTRAS }, () => connect(srv.url)));
  await Promise.all(extras.map(expectBusy));
  refused += extras.length;
  cycles += full.length + extras.length;
  for (const c of full) {
    assert.equal(c.ws.readyState, c.ws.OPEN, 'an admitted session stays open');
    assert.deepEqual(errorsOf(c), [], 'an admitted session gets no error');
  }
  await talk(full[1]!, true);
  await Promise.all(full.map((c, j) => end(c, ENDINGS[j]!)));
  await slotsFree();

  // Rounds of a full house, one refused extra, one connection dropped before its handshake, mixed endings.
  for (let round = 0; cycles < CYCLES; round++) {
    assert.ok(round < 400, 'bounded number of rounds');
    const cs = await openFull(MAX_SESSIONS);
    accepted += cs.length;
    const extra = await connect(srv.url);
    await expectBusy(extra);
    refused++;
    if (round % 5 === 0) await talk(cs[round % MAX_SESSIONS]!, round % 10 === 0);
    await Promise.all(cs.map((c, j) => end(c, ENDINGS[(round + j) % ENDINGS.length]!)));
    cycles += cs.length + 1;
    await slotsFree();
    // Dropped while its session is still starting (before the handshake): counted as accepted only if it got that far.
    const dropped = await connect(srv.url);
    closeAbruptly(dropped, round % 2 === 0 ? 'reset' : 'terminate');
    await dropped.closed;
    cycles++;
    early++;
    await slotsFree();
  }

  const m = await scrape(srv.base);
  const ready = (await (await fetch(`${srv.base}/readyz`)).json()) as { freeSlots: number; liveSessions: number };
  assert.equal(ready.freeSlots, MAX_SESSIONS, '/readyz: every slot free');
  assert.equal(ready.liveSessions, 0);
  assert.equal(metricValue(m, 'parley_sessions_live'), 0, '/metrics: no live session');
  assert.equal(metricValue(m, 'parley_session_slots_free'), MAX_SESSIONS);
  assert.equal(metricValue(m, 'parley_refusals_total', { reason: 'busy' }), refused, 'every 1013 refusal counted as busy');
  const opened = metricValue(m, 'parley_sessions_total');
  // Early-dropped connections may or may not have opened a session before the drop reached the server.
  assert.ok(opened >= accepted && opened <= accepted + early, `sessions opened ${opened}, accepted at least ${accepted}`);
  assert.equal(metricSum(m, 'parley_sessions_ended_total'), opened, 'every opened session was ended exactly once');

  // Abruptly dropped sessions wait in the resume store for the grace period, then go.
  await new Promise((r) => setTimeout(r, RESUME_GRACE_MS + 500));
  const afterRun = await settledResources();
  const heapGrowth = afterRun.heapUsed - before.heapUsed;
  console.log(`churn: ${cycles} cycles (${accepted} admitted, ${refused} refused); heap ${mib(before.heapUsed)} -> ${mib(afterRun.heapUsed)}, `
    + `external ${mib(before.external)} -> ${mib(afterRun.external)}, rss ${mib(before.rss)} -> ${mib(afterRun.rss)}, `
    + `handles ${before.handles} -> ${afterRun.handles} ${JSON.stringify(before.handleKinds)} -> ${JSON.stringify(afterRun.handleKinds)}`);
  assert.ok(cycles >= CYCLES);
  assert.ok(heapGrowth < HEAP_BOUND, `heap grew by ${mib(heapGrowth)} (bound ${mib(HEAP_BOUND)})`);
  assert.ok(afterRun.external - before.external < HEAP_BOUND, `external memory grew by ${mib(afterRun.external - before.external)}`);
  assert.ok(afterRun.handles <= before.handles + HANDLE_BOUND, `handles ${before.handles} -> ${afterRun.handles}`);
});
