import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OggOpusOutput } from '../../src/audio/output-stream.js';
import { parseWav, readWav, writeWav } from '../../src/audio/wav.js';
import { connect, startTestServer, type TestServer } from '../helpers/server-harness.js';
import { speechWav } from '../helpers/speech.js';
import { figure, runClient } from './run-client.js';

let srv: TestServer;
let dir: string;
/** espeak-ng speech resampled to 44.1 kHz stereo: the client must bring it to 24 kHz mono itself. */
let input: string;
let inputSeconds: number;
/** Half a second of a tone at 24 kHz, for runs where the speech itself does not matter. */
let short: string;
/** The server's Opus pre-skip at 24 kHz: decoded reply audio starts this much short. */
let replyPreSkipSeconds: number;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'parley-cli-'));
  const raw = speechWav('Hello there, this is the parley client.', dir);
  input = join(dir, 'speech-44k-stereo.wav');
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-i', raw, '-ar', '44100', '-ac', '2', '-c:a', 'pcm_s16le', input]);
  const wav = await readWav(input);
  assert.equal(wav.sampleRate, 44100);
  assert.equal(wav.channels, 2);
  inputSeconds = wav.samples.length / wav.sampleRate;
  short = join(dir, 'short.wav');
  await writeWav(short, new Float32Array(12000).map((_, i) => 0.3 * Math.sin(i / 5)), 24000);
  const out = new OggOpusOutput();
  replyPreSkipSeconds = out.preSkip / 2 / 24000;
  out.close();
  srv = await startTestServer({ maxSessions: 1 });
});
after(async () => srv?.close());

/** Reply duration matches the input within the model's delay (one 80 ms frame) plus the Opus pre-skip. */
function assertReplyMatchesInput(path: string, expectedSeconds: number): void {
  const reply = parseWav(new Uint8Array(readFileSync(path)));
  assert.equal(reply.sampleRate, 24000);
  assert.equal(reply.channels, 1);
  const seconds = reply.samples.length / reply.sampleRate;
  const tolerance = 0.08 + replyPreSkipSeconds + 1e-6;
  assert.ok(Math.abs(seconds - expectedSeconds) <= tolerance, `reply ${seconds.toFixed(3)} s for ${expectedSeconds.toFixed(3)} s of input (tolerance ${tolerance.toFixed(4)} s)`);
  const peak = reply.samples.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
  assert.ok(peak > 0.001, 'the reply is not silence');
}

test('parley client streams a WAV in real time, writes a reply WAV as long as the input, the transcript, and the latency figures', { timeout: 60_000 }, async () => {
  const out = join(dir, 'reply-rt.wav');
  const txt = join(dir, 'reply-rt.txt');
  const r = await runClient(['--url', srv.url, '--in', input, '--out', out, '--transcript', txt, '--query', 'text_seed=7&audio_seed=8']);
  assert.equal(r.code, 0, r.stderr);
  assertReplyMatchesInput(out, inputSeconds);
  const handshake = figure(r.stdout, /^handshake: ([\d.]+) ms$/m);
  const firstAudio = figure(r.stdout, /^first audio: ([\d.]+) ms/m);
  const p50 = figure(r.stdout, /^reply latency: p50 ([\d.]+) ms/m);
  const p95 = figure(r.stdout, /^reply latency: p50 [\d.]+ ms, p95 ([\d.]+) ms/m);
  assert.ok(handshake > 0 && firstAudio > 0, r.stdout);
  // Frame n's reply needs at least the model's one-frame delay.
  assert.ok(p50 >= 80 && p95 >= p50, r.stdout);
  const transcript = readFileSync(txt, 'utf8');
  assert.ok(transcript.trim().length > 0, 'the transcript file has text');
  assert.match(r.stdout, new RegExp(`^transcript: ${escape(JSON.stringify(transcript.trimEnd()))} -> `, 'm'));
  assert.doesNotMatch(r.stderr, /sent [\d.]+\/[\d.]+ s/, 'no progress line when stderr is not a terminal');
});

test('--fast sends the same stream without pacing: the same reply for the same seeds, with a progress line on request', { timeout: 60_000 }, async () => {
  const rt = join(dir, 'reply-rt.txt');
  const out = join(dir, 'reply-fast.wav');
  const txt = join(dir, 'reply-fast.txt');
  const r = await runClient(['--url', srv.url, '--in', input, '--out', out, '--transcript', txt, '--fast', '--progress', '--query', 'text_seed=7&audio_seed=8']);
  assert.equal(r.code, 0, r.stderr);
  assertReplyMatchesInput(out, inputSeconds);
  assert.equal(readFileSync(txt, 'utf8'), readFileSync(rt, 'utf8'), 'equal seeds and equal input give equal text');
  assert.match(r.stderr, /sent [\d.]+\/[\d.]+ s, received [\d.]+ s/);
});

test('40 ms Opus frames work as well', { timeout: 60_000 }, async () => {
  const out = join(dir, 'reply-40.wav');
  const r = await runClient(['--url', srv.url, '--in', short, '--out', out, '--fast', '--opus-frame-ms', '40']);
  assert.equal(r.code, 0, r.stderr);
  assertReplyMatchesInput(out, 0.5);
});

test('a busy server is a clear error and exit status 1', { timeout: 60_000 }, async () => {
  const holder = await connect(srv.url);
  await holder.waitFor((m) => m.some((x) => x.kind === 0x00), 10_000);
  try {
    const r = await runClient(['--url', srv.url, '--in', short, '--out', join(dir, 'busy.wav')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /server is busy.*1013/);
  } finally {
    holder.ws.close();
    await holder.closed;
  }
});

test('settings the server refuses are a clear error and exit status 1', { timeout: 60_000 }, async () => {
  const r = await runClient(['--url', srv.url, '--in', short, '--out', join(dir, 'refused.wav'), '--query', 'text_temperature=-1']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /refused the session \(1008: text_temperature/);
});

test('an unreachable server is a clear error and exit status 1', { timeout: 60_000 }, async () => {
  const r = await runClient(['--url', 'ws://127.0.0.1:9/api/chat', '--in', short, '--out', join(dir, 'none.wav')]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /connection refused/);
});

test('bad arguments and unreadable input exit with status 2 and say why', { timeout: 60_000 }, async () => {
  const noOut = await runClient(['--url', srv.url, '--in', short]);
  assert.equal(noOut.code, 2);
  assert.match(noOut.stderr, /--out FILE is required/);
  const notWav = await runClient(['--url', srv.url, '--in', join(dir, 'reply-rt.txt'), '--out', join(dir, 'x.wav')]);
  assert.equal(notWav.code, 2);
  assert.match(notWav.stderr, /not a WAV file/);
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
