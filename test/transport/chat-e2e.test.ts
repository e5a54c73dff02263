import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, startTestServer, type TestClient, type TestServer } from '../helpers/server-harness.js';
import { ffmpegDecode, oggPages, speechOgg, type RawPage } from '../helpers/speech.js';

const FRAME = 1920;
let srv: TestServer;
let pages: RawPage[];
let inputFrames: number;

before(async () => {
  const ogg = speechOgg('Hello there. This is a test of the parley speech server.');
  pages = oggPages(ogg.bytes);
  inputFrames = Math.floor(ffmpegDecode(ogg.path).length / FRAME);
  srv = await startTestServer({ maxSessions: 2 });
});
after(async () => srv.close());

/** Sends the Ogg pages as Moshi's web client does: one page per message, at real-time pace. */
async function stream(c: TestClient, ps: RawPage[]): Promise<void> {
  const t0 = performance.now();
  for (const p of ps) {
    const due = Number(p.granule > 0n ? p.granule : 0n) / 48;
    const wait = t0 + due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    c.send(0x01, p.bytes);
  }
}

interface Conversation {
  audio: Buffer;
  text: string;
  kinds: number[];
  errors: string[];
}

async function converse(url: string, ps: RawPage[] = pages, expectFrames = inputFrames - 1): Promise<Conversation> {
  const c = await connect(url);
  await c.waitFor((m) => m.length > 0, 10_000);
  await stream(c, ps);
  // Each output frame is two 40 ms Opus pages; the header pages come first.
  await c.waitFor((m) => m.filter((x) => x.kind === 0x01).length >= 2 + 2 * expectFrames, 15_000);
  c.ws.close();
  await c.closed;
  return {
    audio: Buffer.concat(c.messages.filter((m) => m.kind === 0x01).map((m) => m.payload)),
    text: c.messages.filter((m) => m.kind === 0x02).map((m) => m.payload.toString('utf8')).join(''),
    kinds: c.messages.map((m) => m.kind),
    errors: c.messages.filter((m) => m.kind === 0x05).map((m) => m.payload.toString('utf8')),
  };
}

const seeded = (s: number) => `?text_seed=${s}&audio_seed=${s + 1}`;

test('real speech streamed in real time gets handshake, metadata, valid Ogg Opus (one frame per input frame after the delay) and text', async () => {
  const conv = await converse(srv.url + seeded(7));
  assert.equal(conv.kinds[0], 0x00, 'handshake first');
  assert.equal(conv.kinds[1], 0x04, 'then metadata');
  assert.ok(conv.text.length > 0, 'some text arrived');
  const file = join(mkdtempSync(join(tmpdir(), 'parley-e2e-')), 'reply.opus');
  writeFileSync(file, conv.audio);
  const info = spawnSync('opusinfo', [file], { encoding: 'utf8' });
  const warnings = (info.stdout + info.stderr).split('\n').filter((l) => /WARNING/i.test(l) && !/EOS/.test(l));
  assert.deepEqual(warnings, [], `opusinfo warnings:\n${info.stdout}${info.stderr}`);
  const pcm = ffmpegDecode(file);
  // The decoder drops the encoder's pre-skip (OpusHead bytes 10-11, in 48 kHz samples) from the start.
  const preSkip = conv.audio.readUInt16LE(28 + 10) / 2;
  assert.equal(pcm.length, (inputFrames - 1) * FRAME - preSkip, `decoded ${pcm.length} samples for ${inputFrames} input frames`);
});

test('the metadata message carries the session id, model and sampling settings', async () => {
  const c = await connect(srv.url + '?text_temperature=0.5&text_topk=10&email=x@y&worker_auth_id=1');
  await c.waitFor((m) => m.some((x) => x.kind === 0x04), 10_000);
  const meta = JSON.parse(c.messages.find((m) => m.kind === 0x04)!.payload.toString('utf8')) as Record<string, unknown>;
  assert.equal(meta['text_temperature'], 0.5);
  assert.equal(meta['text_topk'], 10);
  assert.equal(typeof meta['session_id'], 'string');
  assert.equal(typeof meta['model'], 'string');
  c.ws.close();
  await c.closed;
});

test('a bad query parameter gets an error naming it and close code 1008', async () => {
  const c = await connect(srv.url + '?audio_topk=-3');
  const closed = await c.closed;
  assert.equal(closed.code, 1008);
  const err = c.messages.find((m) => m.kind === 0x05)?.payload.toString('utf8') ?? '';
  assert.match(err, /audio_topk/);
});

test('two sessions at once with fixed seeds each get exactly what they get alone; a third is refused with 1013', async () => {
  const aloneA = await converse(srv.url + seeded(11));
  const aloneB = await converse(srv.url + seeded(23));
  assert.notDeepEqual(aloneA.audio, aloneB.audio, 'different seeds differ');
  const both = Promise.all([converse(srv.url + seeded(11)), converse(srv.url + seeded(23))]);
  await new Promise((r) => setTimeout(r, 500));
  const third = await connect(srv.url);
  const refused = await third.closed;
  assert.equal(refused.code, 1013);
  assert.match(third.messages.find((m) => m.kind === 0x05)?.payload.toString('utf8') ?? '', /server busy/);
  const [a, b] = await both;
  assert.equal(a.text, aloneA.text);
  assert.equal(b.text, aloneB.text);
  assert.ok(a.audio.equals(aloneA.audio), 'session A audio identical');
  assert.ok(b.audio.equals(aloneB.audio), 'session B audio identical');
});

test('garbage from one client gets errors or is ignored, and the other session does not notice', async () => {
  const alone = await converse(srv.url + seeded(31));
  const good = converse(srv.url + seeded(31));
  const bad = await connect(srv.url);
  await bad.waitFor((m) => m.some((x) => x.kind === 0x00), 10_000);
  const page = pages[2]!.bytes;
  const badCrc = Uint8Array.from(page);
  badCrc[badCrc.length - 1]! ^= 0xff;
  const junk = [
    Uint8Array.from({ length: 300 }, (_, i) => (i * 37 + 11) & 0xff),
    page.subarray(0, 20),
    badCrc,
  ];
  for (const j of junk) bad.send(0x01, j);
  bad.ws.send(Buffer.alloc(0));
  bad.send(0x42, Buffer.from('what'));
  bad.send(0x03, Buffer.from([9]));
  bad.ws.send('a text frame');
  bad.send(0x02, Buffer.from('hello from the client'));
  bad.send(0x06);
  await bad.waitFor((m) => m.filter((x) => x.kind === 0x05).length >= 3, 5_000);
  assert.equal(bad.ws.readyState, bad.ws.OPEN, 'garbage does not kill the session either');
  const g = await good;
  assert.equal(g.text, alone.text);
  assert.ok(g.audio.equals(alone.audio));
  bad.ws.close();
  await bad.closed;
  const health = await fetch(`${srv.base}/healthz`);
  assert.equal(health.status, 200);
});

test('healthz, readyz and metrics answer', async () => {
  assert.equal((await fetch(`${srv.base}/healthz`)).status, 200);
  const ready = await fetch(`${srv.base}/readyz`);
  assert.equal(ready.status, 200);
  assert.equal(((await ready.json()) as { freeSlots: number }).freeSlots, 2);
  const metrics = await (await fetch(`${srv.base}/metrics`)).text();
  for (const name of ['parley_sessions_live', 'parley_tick_seconds', 'parley_batch_size', 'parley_late_frames_total', 'parley_nodejs_eventloop_lag_p99_seconds']) {
    assert.match(metrics, new RegExp(name));
  }
  assert.match(metrics, /parley_sessions_live 0/);
});
