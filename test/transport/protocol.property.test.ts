import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseClientMessage } from '../../src/transport/protocol.js';
import { connect, startTestServer, type TestClient, type TestServer } from '../helpers/server-harness.js';
import { hostileMessage, type HostileMessage } from '../helpers/hostile-input.js';
import { metricSum, metricValue, scrape } from '../helpers/metrics.js';
import { mib, settledResources } from '../helpers/process-resources.js';
import { errorsOf, rawSocket, until } from '../helpers/sockets.js';
import { streamRealtime } from '../helpers/reply-latency.js';
import { oggPages, speechOgg, type RawPage } from '../helpers/speech.js';

const MAX_MESSAGE = 1 << 20;
/** Close codes a hostile client may get: policy (1008), too big (1009), bad frames (1002), bad UTF-8 (1007). Never 1011. */
const HOSTILE_CLOSE_CODES = new Set([1002, 1007, 1008, 1009]);

let srv: TestServer;
let speech: RawPage[];

before(async () => {
  speech = oggPages(speechOgg('A well behaved session keeps talking while another client sends the server every kind of garbage.').bytes);
  srv = await startTestServer({ maxSessions: 2, config: { connectionsPerMinute: 1_000_000, limits: { maxMessageBytes: MAX_MESSAGE } } });
});
after(async () => srv.close());

test('parseClientMessage never throws on arbitrary bytes, and classifies every message', () => {
  const kinds = new Set(['audio', 'text', 'control', 'ping', 'metadata', 'invalid']);
  fc.assert(fc.property(fc.uint8Array({ maxLength: 4096 }), (bytes) => {
    const m = parseClientMessage(bytes);
    assert.ok(kinds.has(m.kind));
    if (m.kind === 'audio') assert.deepEqual(m.payload, bytes.subarray(1));
    if (bytes.length === 0 || ![0x01, 0x02, 0x03, 0x04, 0x06].includes(bytes[0]!)) assert.equal(m.kind, 'invalid');
  }), { numRuns: 3000 });
});

function sendHostile(c: TestClient, m: HostileMessage): void {
  if (c.ws.readyState !== c.ws.OPEN) return;
  if (m.type === 'binary') c.ws.send(m.data);
  else if (m.type === 'text') c.ws.send(m.data);
  else c.ws.send(m.data, { binary: false });
}

test('arbitrary hostile message sequences never crash the server or disturb another session, and free their slot', async () => {
  const victim = await connect(srv.url);
  await victim.waitFor((m) => m.some((x) => x.kind === 0x00), 10_000);
  let stop = false;
  const victimTalk = (async () => {
    for (let i = 0; i < 100 && !stop; i++) await streamRealtime(victim, speech, () => stop);
  })();
  const before = await settledResources();
  const seen = new Map<number | 'open', number>();
  let runs = 0;

  await fc.assert(fc.asyncProperty(fc.array(hostileMessage(speech, MAX_MESSAGE), { minLength: 1, maxLength: 12 }), async (msgs) => {
    runs++;
    const audioBefore = victim.messages.filter((m) => m.kind === 0x01).length;
    const c = await connect(srv.url);
    await c.waitFor((m) => m.some((x) => x.kind === 0x00), 10_000);
    for (const m of msgs) sendHostile(c, m);
    // Let the server chew on it, then check everyone is still fine.
    await new Promise((r) => setTimeout(r, 150));
    const state = c.ws.readyState === c.ws.OPEN ? 'open' : (await c.closed).code;
    seen.set(state, (seen.get(state) ?? 0) + 1);
    if (state !== 'open') assert.ok(HOSTILE_CLOSE_CODES.has(state), `closed with ${state} after ${msgs.map((m) => m.what).join(', ')}`);
    // At most five error replies per session, plus the one a server-side close comes with.
    assert.ok(errorsOf(c).length <= 6, `${errorsOf(c).length} error messages`);
    assert.equal((await fetch(`${srv.base}/healthz`)).status, 200);
    assert.equal(victim.ws.readyState, victim.ws.OPEN, 'the other session is still open');
    rawSocket(c.ws).resetAndDestroy();
    await c.closed;
    await until(() => srv.server.sessions.size === 1 && srv.engine.freeSlots === 1, 10_000, 'the hostile session\'s slot to be free');
    await until(() => victim.messages.filter((m) => m.kind === 0x01).length > audioBefore, 10_000, 'the other session to keep getting replies');
  }), { numRuns: Number(process.env['HOSTILE_RUNS'] ?? 40), endOnFailure: true });

  stop = true;
  await victimTalk;
  assert.deepEqual(victim.messages.filter((m) => m.kind === 0x05).map((m) => m.payload.toString()), [], 'the other session got no error');
  victim.ws.close();
  await victim.closed;
  const afterRuns = await settledResources();
  console.log(`hostile input: ${runs} runs, outcomes ${JSON.stringify(Object.fromEntries(seen))}; heap ${mib(before.heapUsed)} -> ${mib(afterRuns.heapUsed)}`);
  assert.ok(afterRuns.heapUsed - before.heapUsed < 32 * 2 ** 20, 'no unbounded allocation left behind');
  const m = await scrape(srv.base);
  assert.equal(metricValue(m, 'parley_sessions_ended_total', { reason: 'internal_error' }), 0, 'no session failed internally');
  assert.ok(metricSum(m, 'parley_client_errors_total') > 0, 'the garbage was noticed and counted');
  // Every hostile close is counted under its reason.
  assert.equal(metricValue(m, 'parley_sessions_ended_total', { reason: 'message_too_big' }), seen.get(1009) ?? 0);
  assert.equal(metricValue(m, 'parley_sessions_ended_total', { reason: 'protocol_error' }), (seen.get(1007) ?? 0) + (seen.get(1002) ?? 0));
});

test('a message over maxMessageBytes closes the session with 1009 and is counted; one at the limit is accepted', async () => {
  const c = await connect(srv.url);
  await c.waitFor((m) => m.some((x) => x.kind === 0x00), 10_000);
  c.ws.send(new Uint8Array(MAX_MESSAGE).fill(0x06));
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(c.ws.readyState, c.ws.OPEN, 'a message of exactly maxMessageBytes is fine');
  c.ws.send(new Uint8Array(MAX_MESSAGE + 1).fill(0x06));
  const closed = await c.closed;
  assert.equal(closed.code, 1009);
  const m = await scrape(srv.base);
  assert.ok(metricValue(m, 'parley_sessions_ended_total', { reason: 'message_too_big' }) >= 1, 'counted as message_too_big');
});

test('__proto__ and constructor in the query string or metadata pollute no prototype', async () => {
  const queries = [
    '?__proto__[polluted]=yes&constructor[prototype][polluted]=yes',
    '?__proto__.polluted=yes&constructor.prototype.polluted=yes&text_temperature=0.5',
    '?__proto__=polluted&constructor=polluted&prototype=polluted&hasOwnProperty=x&toString=x',
    '?text_temperature[__proto__][polluted]=yes',
  ];
  for (const q of queries) {
    const c = await connect(srv.url + q);
    await c.waitFor((m) => m.some((x) => x.kind === 0x00 || x.kind === 0x05), 10_000);
    c.send(0x04, new TextEncoder().encode('{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}}}'));
    await new Promise((r) => setTimeout(r, 50));
    c.ws.close();
    const closed = await c.closed;
    assert.ok([1000, 1005, 1008].includes(closed.code), `${q}: closed with ${closed.code}`);
  }
  assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
  assert.equal(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted'), false);
  assert.equal(typeof ({}).toString, 'function');
  assert.equal((await fetch(`${srv.base}/healthz`)).status, 200);
});
