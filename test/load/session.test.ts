import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { prepareClip } from '../../load/core/input-clip.js';
import { runSession, type SessionPlan } from '../../load/core/session.js';
import { ensureSpeechClip } from '../../load/node/speech-clip.js';
import { fakeServer, type FakeServerOptions } from './fake-server.js';
import { VirtualRuntime } from './virtual-runtime.js';

const clip = prepareClip(new Uint8Array(readFileSync(ensureSpeechClip())));

const plan = (over: Partial<SessionPlan> = {}): SessionPlan => ({
  url: 'ws://127.0.0.1:1/api/chat',
  talkMs: 3000,
  talkUntil: Infinity,
  handshakeTimeoutMs: 1000,
  drainMs: 500,
  closeTimeoutMs: 500,
  ...over,
});

async function converse(opts: FakeServerOptions, over: Partial<SessionPlan> = {}) {
  const server = fakeServer(opts);
  const rt = new VirtualRuntime(server.connect);
  const result = await rt.run(runSession(rt, clip, plan(over)));
  return { server, rt, result };
}

test('output frame n is paired with the input page that completed frame n (one frame of delay plus processing)', async () => {
  const { server, rt, result } = await converse({ processingMs: 30 });
  const latencies = rt.recorder.values('parley_reply_latency_ms');
  assert.equal(result.framesReceived, result.framesSent - 1, 'one frame of delay');
  assert.equal(latencies.length, result.framesReceived);
  const expected = latencies.map((_, i) => server.inputCompletedAt[i + 2]! + 30 - server.inputCompletedAt[i + 1]!);
  assert.deepEqual(latencies, expected);
  // 80 ms of audio between frames n and n+1, plus the server's 30 ms.
  assert.ok(latencies.every((l) => Math.abs(l - 110) < 1), `latencies ${latencies.slice(0, 8).join(', ')}`);
});

test('audio is sent at real-time pace: about talkMs of audio in about talkMs of time, frames counted from granules', async () => {
  const { rt, result } = await converse({}, { talkMs: 4000 });
  // 4 s is 50 frames of 80 ms; the pre-skip and page boundaries may cost the last one.
  assert.ok(result.framesSent >= 49 && result.framesSent <= 50, `sent ${result.framesSent}`);
  assert.equal(rt.recorder.sum('parley_frames_sent'), result.framesSent);
  assert.ok(rt.t >= 4000 && rt.t < 4000 + 500 + 500, `finished at t=${rt.t}`);
});

test('a normal conversation records the handshake, text, no errors, and a client close with 1000', async () => {
  const { rt, result } = await converse({});
  assert.equal(result.handshake, true);
  assert.deepEqual(rt.recorder.values('parley_handshake_ms'), [5]);
  assert.deepEqual(rt.recorder.values('parley_handshake_ok'), [1]);
  assert.ok(result.textMessages > 0);
  assert.deepEqual(result.errors, []);
  assert.equal(result.closeCode, 1000);
  assert.equal(result.closedBy, 'client');
  assert.equal(rt.recorder.sum('parley_unexpected_closes'), 0);
  assert.deepEqual(rt.recorder.sumBy('parley_closes', 'code'), { '1000': 1 });
});

test('a refused connection (error, then 1013 before any handshake) counts as a failed handshake, an error and an unexpected close', async () => {
  const { rt, result } = await converse({ refuse: true });
  assert.equal(result.handshake, false);
  assert.deepEqual(rt.recorder.values('parley_handshake_ok'), [0]);
  assert.deepEqual(result.errors, ['server busy']);
  assert.equal(rt.recorder.sum('parley_errors'), 1);
  assert.equal(result.closedBy, 'server');
  assert.equal(rt.recorder.sum('parley_unexpected_closes'), 1);
  assert.equal(result.framesSent, 0, 'no audio without a handshake');
});

test('replies that stop coming are counted missing once the drain runs out', async () => {
  const { rt, result } = await converse({ maxReplies: 10 }, { talkMs: 2000 });
  assert.equal(result.framesReceived, 10);
  assert.equal(result.framesMissing, result.framesSent - 1 - 10);
  assert.equal(rt.recorder.sum('parley_frames_missing'), result.framesMissing);
});

test('no audio is sent past talkUntil, however long talkMs is', async () => {
  const { result } = await converse({}, { talkMs: 60_000, talkUntil: 1000 });
  assert.ok(result.framesSent <= 13, `sent ${result.framesSent}`);
});
