import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { buildPage } from '../../src/audio/ogg/page-writer.js';
import { buildOpusHead, buildOpusTags } from '../../src/audio/opus/opus-head.js';
import { connect, startTestServer, type TestServer } from '../helpers/server-harness.js';
import { metricValue, scrape } from '../helpers/metrics.js';
import { errorsOf } from '../helpers/sockets.js';
import { oggPages, speechOgg, type RawPage } from '../helpers/speech.js';

let srv: TestServer;
let speech: RawPage[];

before(async () => {
  speech = oggPages(speechOgg('An honest client may send a few seconds of speech at once.').bytes);
  srv = await startTestServer({ maxSessions: 2 });
});
after(async () => srv.close());

/**
 * A valid Ogg Opus stream whose audio pages each hold 255 one-byte Opus
 * packets (a lone TOC byte: 60 ms of SILK concealment each), about 15 s of
 * audio per 537-byte page: a quarter megabyte claims over two hours.
 */
function tinyPacketFlood(bytes: number): Uint8Array {
  const pages = [
    buildPage({ serial: 9, sequence: 0, granule: 0, flags: { bos: true }, packets: [buildOpusHead({ channels: 1, preSkip: 0, inputSampleRate: 48000 })] }),
    buildPage({ serial: 9, sequence: 1, granule: 0, packets: [buildOpusTags({ vendor: 'flood', comments: [] })] }),
  ];
  const packet = Uint8Array.from([3 << 3]);
  for (let seq = 2, size = 0; size < bytes; seq++) {
    const p = buildPage({ serial: 9, sequence: seq, granule: (seq - 1) * 255 * 2880, packets: Array<Uint8Array>(255).fill(packet) });
    pages.push(p);
    size += p.length;
  }
  const msg = new Uint8Array(1 + pages.reduce((n, p) => n + p.length, 0));
  msg[0] = 0x01;
  let o = 1;
  for (const p of pages) {
    msg.set(p, o);
    o += p.length;
  }
  return msg;
}

test('a message packing hours of audio into tiny Opus packets is cut off: 1008 within a second, the event loop never blocked for long', async () => {
  const c = await connect(srv.url);
  await c.waitFor((m) => m.some((x) => x.kind === 0x00), 10_000);
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  const t0 = performance.now();
  c.ws.send(tinyPacketFlood(256 * 1024));
  const closed = await c.closed;
  const ms = performance.now() - t0;
  delay.disable();
  const maxBlockMs = delay.max / 1e6;
  console.log(`input flood: closed after ${ms.toFixed(0)} ms, longest event-loop block ${maxBlockMs.toFixed(0)} ms`);
  assert.equal(closed.code, 1008, `closed with ${closed.code} ${closed.reason}`);
  assert.match(errorsOf(c).join(), /faster than 10× real time/);
  assert.ok(ms < 3000, `closed after ${ms.toFixed(0)} ms`);
  assert.ok(maxBlockMs < 1000, `event loop blocked for ${maxBlockMs.toFixed(0)} ms`);
  const m = await scrape(srv.base);
  assert.equal(metricValue(m, 'parley_sessions_ended_total', { reason: 'input_too_fast' }), 1);
});

test('an honest client sending a few seconds of speech at once (within the 10 s burst) is served', async () => {
  const c = await connect(srv.url);
  await c.waitFor((m) => m.some((x) => x.kind === 0x00), 10_000);
  const seconds = Number(speech[speech.length - 1]!.granule) / 48000;
  assert.ok(seconds < 9, `the speech is ${seconds.toFixed(1)} s`);
  for (const p of speech) c.send(0x01, p.bytes);
  await c.waitFor((m) => m.filter((x) => x.kind === 0x01).length >= 10, 15_000);
  assert.equal(c.ws.readyState, c.ws.OPEN);
  assert.deepEqual(errorsOf(c), []);
  c.ws.close();
  await c.closed;
});
